/* Build-time helper: writes a C file defining `const unsigned char NAME[]`
 * (NUL-terminated) and `const size_t NAME_len` with the bytes of a file. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: ct_embed SYMBOL INPUT OUTPUT\n");
        return 2;
    }
    FILE *in = fopen(argv[2], "rb");
    if (!in) {
        perror(argv[2]);
        return 1;
    }
    FILE *out = fopen(argv[3], "wb");
    if (!out) {
        perror(argv[3]);
        fclose(in);
        return 1;
    }
    fprintf(out, "/* generated from %s by ct_embed; do not edit */\n#include <stddef.h>\n", argv[2]);
    fprintf(out, "const unsigned char %s[] = {\n", argv[1]);
    size_t n = 0;
    int c;
    while ((c = fgetc(in)) != EOF) {
        fprintf(out, "%d,", c);
        if (++n % 32 == 0)
            fputc('\n', out);
    }
    fprintf(out, "0};\nconst size_t %s_len = %zu;\n", argv[1], n);
    int bad = ferror(in) || ferror(out);
    fclose(in);
    if (fclose(out) != 0 || bad) {
        fprintf(stderr, "ct_embed: I/O error\n");
        return 1;
    }
    return 0;
}

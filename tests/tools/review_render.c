/* Writes the hand-built review of tests/unit/review_fixture.h as HTML or
 * CSV, or the names of its identities (one per line, hex-encoded: they hold
 * CR, LF and bytes that are not UTF-8), for the browser test
 * (tests/html/check_review_html.py).
 * Usage: ct_review_render html|csv|names OUT [--complete] [--no-compare] */
#include "cloudtracker/report.h"
#include "review_fixture.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "html") != 0 && strcmp(argv[1], "csv") != 0 &&
                     strcmp(argv[1], "names") != 0)) {
        fprintf(stderr, "usage: ct_review_render html|csv|names OUT [--complete] [--no-compare]\n");
        return 2;
    }
    bool incomplete = true, compare = true;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--complete") == 0)
            incomplete = false;
        else if (strcmp(argv[i], "--no-compare") == 0)
            compare = false;
        else {
            fprintf(stderr, "ct_review_render: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    review_fixture f;
    if (!review_fixture_init(&f, incomplete, compare))
        return 1;
    FILE *out = fopen(argv[2], "wb");
    if (!out) {
        perror(argv[2]);
        review_fixture_release(&f);
        return 1;
    }
    int rc = 0;
    if (argv[1][0] == 'n') {
        for (size_t i = 0; i < f.review.identity_count; i++) {
            for (const char *p = f.review.identities[i].name; *p; p++)
                fprintf(out, "%02x", (unsigned char)*p);
            fputc('\n', out);
        }
    } else {
        rc = ct_report_print_review(out, argv[1][0] == 'h' ? CT_FORMAT_HTML : CT_FORMAT_CSV,
                                    &f.report);
    }
    review_fixture_release(&f);
    if (fclose(out) != 0 || rc != 0) {
        fprintf(stderr, "ct_review_render: cannot write %s\n", argv[2]);
        return 1;
    }
    return 0;
}

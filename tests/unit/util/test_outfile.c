/* Unit tests for whole-file outputs (ct_outfile): the target appears only
 * on commit, by rename, so a link at its name is replaced and never
 * written through; an abort leaves the target as it was. */
#define _XOPEN_SOURCE 700
#include "cloudtracker/outfile.h"
#include "store_fixture.h"
#include "test.h"

#include <dirent.h>

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char buf[256];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return ct_strdup(buf);
}

/* Entries of `dir` other than . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static void test_commit_replaces_a_link(void)
{
    char *root = scratch_dir("outfile");
    char *victim = pathf(root, "victim");
    char *out = pathf(root, "out.ndjson");
    write_bytes(victim, "precious\n", 9);
    CHECK_INT(symlink(victim, out), 0);
    ct_outfile f;
    ct_error err;
    CHECK_INT(ct_outfile_open(&f, out, &err), 0);
    CHECK_INT(entries(root), 3); /* the temporary file beside them */
    fputs("new\n", f.fp);
    CHECK_INT(ct_outfile_commit(&f, &err), 0);
    struct stat st;
    CHECK_INT(lstat(out, &st), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_INT(st.st_mode & 0777, 0600);
    char *got = slurp(out);
    CHECK_STR(got, "new\n");
    free(got);
    got = slurp(victim);
    CHECK_STR(got, "precious\n");
    free(got);
    CHECK_INT(entries(root), 2);
    remove_tree(root);
    free(victim);
    free(out);
    free(root);
}

static void test_abort_leaves_the_target(void)
{
    char *root = scratch_dir("outfile");
    char *out = pathf(root, "out.txt");
    write_bytes(out, "old\n", 4);
    ct_outfile f;
    ct_error err;
    CHECK_INT(ct_outfile_open(&f, out, &err), 0);
    fputs("half", f.fp);
    ct_outfile_abort(&f);
    ct_outfile_abort(&f); /* harmless twice */
    char *got = slurp(out);
    CHECK_STR(got, "old\n");
    free(got);
    CHECK_INT(entries(root), 1);
    /* A folder that does not exist: one error naming the target. */
    char *nowhere = pathf(root, "missing/out.txt");
    CHECK_INT(ct_outfile_open(&f, nowhere, &err), CT_EIO);
    CHECK(strstr(err.message, nowhere) != NULL);
    CHECK(f.fp == NULL && f.tmp_path == NULL);
    remove_tree(root);
    free(out);
    free(nowhere);
    free(root);
}

int main(void)
{
    RUN(test_commit_replaces_a_link);
    RUN(test_abort_leaves_the_target);
    TEST_MAIN_END();
}

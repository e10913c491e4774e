/* Unit tests for the config loader: the original's accounts list, files and
 * window sections, path resolution, and errors with line:col. */
#include "cloudtracker/config.h"
#include "cloudtracker/date.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[256];

static const char *write_config(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static int load(const char *text, ct_config **cfg, ct_error *err)
{
    ct_error_clear(err);
    return ct_config_load(cfg, write_config("c.yaml", text), err);
}

static void test_original_format(void)
{
    ct_config *cfg = NULL;
    ct_error err;
    /* The original tool's config: elasticsearch section plus accounts. */
    int rc = load(
        "elasticsearch:\n  host: localhost\n  port: 9200\n  index: cloudtrail\n"
        "accounts:\n  - name: demo\n    id: 111111111111\n    iam: account-data/demo_iam.json\n",
        &cfg, &err);
    CHECK_INT(rc, 0);
    CHECK(cfg->has_elasticsearch);
    CHECK_INT(cfg->account_count, 1);
    CHECK_STR(cfg->accounts[0].name, "demo");
    CHECK_STR(cfg->accounts[0].id, "111111111111");
    char want[600];
    snprintf(want, sizeof(want), "%s/account-data/demo_iam.json", dir);
    CHECK_STR(cfg->accounts[0].iam_path, want);
    snprintf(want, sizeof(want), "%s/.cloudtracker/store.db", dir);
    CHECK_STR(cfg->store_path, want);
    CHECK_INT(cfg->window_days, 365);
    CHECK(!cfg->has_window_end);
    CHECK(ct_config_find_account(cfg, "demo") == &cfg->accounts[0]);
    CHECK(ct_config_find_account(cfg, "111111111111") == &cfg->accounts[0]);
    CHECK(ct_config_find_account(cfg, "nope") == NULL);
    ct_config_free(cfg);
}

static void test_files_and_window(void)
{
    ct_config *cfg = NULL;
    ct_error err;
    int rc =
        load("accounts:\n  - {name: a, id: \"012345678901\"}\n  - {name: b, id: '222222222222'}\n"
             "files:\n  paths: [logs, /abs/trail]\n  store: s/store.db\n"
             "window:\n  end: 2018-06-30\n  days: 30\n",
             &cfg, &err);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", err.message);
        return;
    }
    CHECK_STR(cfg->accounts[0].id, "012345678901");
    CHECK(cfg->accounts[0].iam_path == NULL);
    CHECK_INT(cfg->log_path_count, 2);
    CHECK_STR(cfg->log_paths[1], "/abs/trail");
    int64_t d;
    ct_date_parse_day("2018-06-30", &d);
    CHECK(cfg->has_window_end);
    CHECK_INT(cfg->window_end, d);
    CHECK_INT(cfg->window_days, 30);
    ct_config_free(cfg);

    /* A single folder without brackets. */
    rc =
        load("accounts:\n  - {name: a, id: \"012345678901\"}\nfiles:\n  paths: logs\n", &cfg, &err);
    CHECK_INT(rc, 0);
    CHECK_INT(cfg ? cfg->log_path_count : 0, 1);
    ct_config_free(cfg);
}

static void expect_error(const char *text, int line, int col, const char *needle)
{
    ct_config *cfg = NULL;
    ct_error err;
    int rc = load(text, &cfg, &err);
    CHECK_INT(rc, CT_ECONFIG);
    CHECK(cfg == NULL);
    CHECK_INT(err.line, line);
    if (col)
        CHECK_INT(err.col, col);
    if (!strstr(err.message, needle)) {
        fprintf(stderr, "message '%s' lacks '%s'\n", err.message, needle);
        CHECK(0);
    }
}

static void test_errors(void)
{
    expect_error("accounts:\n  - name: demo\n    id: 11111111111\n", 3, 9, "not 12 digits");
    expect_error("accounts:\n  - name: demo\n    id: 1111111111a1\n", 3, 9, "not 12 digits");
    expect_error("accounts:\n  - name: demo\n    id: \"111111111111\"\nfles: {}\n", 4, 1,
                 "unknown key 'fles'");
    expect_error("accounts:\n  - name: demo\n    id: \"111111111111\"\n   iam: [x\n", 4, 0,
                 "YAML syntax error");
    expect_error(
        "accounts:\n  - name: a\n    id: \"111111111111\"\n  - name: a\n    id: \"222222222222\"\n",
        4, 5, "used twice");
    expect_error("accounts:\n  - id: \"111111111111\"\n", 2, 5, "no name");
    expect_error("accounts: {}\n", 1, 11, "must be a list");
    expect_error("files: {}\n", 1, 1, "no accounts list");
    expect_error("accounts: []\nwindow:\n  end: 2018-02-30\n", 3, 8, "YYYY-MM-DD");
    expect_error("accounts: []\nwindow:\n  days: -3\n", 3, 9, "whole number");
    expect_error("accounts: []\nwindow:\n  start: 2019-01-01\n  end: 2018-01-01\n", 3, 10, "after");
    expect_error("accounts: []\naccounts: []\n", 2, 1, "twice");
    expect_error("", 0, 0, "empty");
    expect_error("- just\n- a list\n", 1, 1, "must be a mapping");

    ct_config *cfg = NULL;
    ct_error err;
    char path[600];
    snprintf(path, sizeof(path), "%s/absent.yaml", dir);
    CHECK_INT(ct_config_load(&cfg, path, &err), CT_ECONFIG);
    CHECK(strstr(err.message, "No such file") != NULL);
}

static void test_resolve(void)
{
    char *p = ct_path_resolve("/etc/ct", "logs");
    CHECK_STR(p, "/etc/ct/logs");
    free(p);
    p = ct_path_resolve("/etc/ct", "/var/logs");
    CHECK_STR(p, "/var/logs");
    free(p);
    p = ct_path_resolve(".", "logs");
    CHECK_STR(p, "logs");
    free(p);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/ct-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_original_format);
    RUN(test_files_and_window);
    RUN(test_errors);
    RUN(test_resolve);
    char path[600];
    snprintf(path, sizeof(path), "%s/c.yaml", dir);
    unlink(path);
    rmdir(dir);
    TEST_MAIN_END();
}

/* Unit tests for the config loader: the original's accounts list, files and
 * window sections, path resolution, and errors with line:col. */
#include "cloudtracker/config.h"
#include "cloudtracker/date.h"
#include "test.h"

#include <pwd.h>
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

/* accounts[].identity_store: a path resolved like iam, optional, never
 * empty. */
static void test_identity_store(void)
{
    ct_config *cfg = NULL;
    ct_error err;
    CHECK_INT(load("accounts:\n  - name: demo\n    id: '111111111111'\n"
                   "    identity_store: idc/users.json\n  - name: b\n    id: '222222222222'\n",
                   &cfg, &err),
              0);
    char want[600];
    snprintf(want, sizeof(want), "%s/idc/users.json", dir);
    CHECK_STR(cfg->accounts[0].identity_store_path, want);
    CHECK(cfg->accounts[1].identity_store_path == NULL);
    ct_config_free(cfg);
    cfg = NULL;
    CHECK_INT(load("accounts:\n  - name: demo\n    id: '111111111111'\n    identity_store: ''\n",
                   &cfg, &err),
              CT_ECONFIG);
    CHECK(strstr(err.message, "the identity_store file of account 'demo' is empty") != NULL);
    CHECK(cfg == NULL);
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

static ct_config *load_ok(const char *text)
{
    ct_config *cfg = NULL;
    ct_error err;
    int rc = load(text, &cfg, &err);
    CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "unexpected error: %d:%d: %s\n", err.line, err.col, err.message);
    return cfg;
}

#define ACCTS "accounts: []\n"

static void test_es_defaults(void)
{
    /* The original tool's keys keep their meaning. */
    ct_config *cfg = load_ok(ACCTS "elasticsearch:\n  host: es.local\n  port: 9201\n"
                                   "  index: ct\n  key_prefix: ''\n"
                                   "  timestamp_field: eventTime\n");
    if (!cfg)
        return;
    CHECK(cfg->has_elasticsearch);
    CHECK_INT(cfg->es.line, 3);
    CHECK_INT(cfg->es.url_count, 1);
    CHECK_STR(cfg->es.urls[0], "http://es.local:9201");
    CHECK_STR(cfg->es.index, "ct");
    CHECK_STR(cfg->es.key_prefix, "");
    CHECK_STR(cfg->es.timestamp_field, "eventTime");
    CHECK_INT(cfg->es.schema, CT_ES_SCHEMA_AUTO);
    CHECK_INT(cfg->es.connect_timeout_ms, 10000);
    CHECK_INT(cfg->es.request_timeout_ms, 900000);
    CHECK_INT(cfg->es.retries, 3);
    CHECK(!cfg->es.aws_sigv4 && !cfg->es.insecure && !cfg->es.password);
    ct_config_free(cfg);

    cfg = load_ok(ACCTS "elasticsearch:\n");
    if (cfg) {
        CHECK_STR(cfg->es.urls[0], "http://localhost:9200");
        CHECK_STR(cfg->es.index, "cloudtrail");
        ct_config_free(cfg);
    }
    cfg = load_ok(ACCTS "elasticsearch:\n  schema: ecs\n");
    if (cfg) {
        CHECK_STR(cfg->es.index, "logs-aws.cloudtrail-*");
        CHECK_INT(cfg->es.schema, CT_ES_SCHEMA_ECS);
        ct_config_free(cfg);
    }
}

static void test_es_hosts(void)
{
    ct_config *cfg = load_ok(ACCTS "elasticsearch:\n  hosts: [a:9200, 'https://b:443/', c]\n"
                                   "  scheme: https\n  index: 'cloudtrail-*,other'\n"
                                   "  schema: dynamic\n  connect_timeout: 2.5\n"
                                   "  request_timeout: 30\n  retries: 0\n  insecure: true\n"
                                   "  ca_cert: ca.pem\n  client_cert: c.pem\n  client_key: k.pem\n"
                                   "  proxy: http://proxy:3128\n");
    if (!cfg)
        return;
    CHECK_INT(cfg->es.url_count, 3);
    CHECK_STR(cfg->es.urls[0], "https://a:9200");
    CHECK_STR(cfg->es.urls[1], "https://b:443");
    CHECK_STR(cfg->es.urls[2], "https://c:9200");
    CHECK_STR(cfg->es.index, "cloudtrail-*,other");
    CHECK_INT(cfg->es.schema, CT_ES_SCHEMA_DYNAMIC);
    CHECK_INT(cfg->es.connect_timeout_ms, 2500);
    CHECK_INT(cfg->es.request_timeout_ms, 30000);
    CHECK_INT(cfg->es.retries, 0);
    CHECK(cfg->es.insecure);
    char want[600];
    snprintf(want, sizeof(want), "%s/ca.pem", dir);
    CHECK_STR(cfg->es.ca_cert, want);
    snprintf(want, sizeof(want), "%s/k.pem", dir);
    CHECK_STR(cfg->es.client_key, want);
    CHECK_STR(cfg->es.proxy, "http://proxy:3128");
    ct_config_free(cfg);

    cfg = load_ok(ACCTS "elasticsearch:\n  hosts: es.local\n");
    if (cfg) {
        CHECK_INT(cfg->es.url_count, 1);
        CHECK_STR(cfg->es.urls[0], "http://es.local:9200");
        ct_config_free(cfg);
    }
    /* IPv6 literals: the port follows the bracket. */
    cfg = load_ok(ACCTS "elasticsearch:\n  hosts: ['[::1]:9201', '[::1]']\n");
    if (cfg) {
        CHECK_INT(cfg->es.url_count, 2);
        CHECK_STR(cfg->es.urls[0], "http://[::1]:9201");
        CHECK_STR(cfg->es.urls[1], "http://[::1]:9200");
        ct_config_free(cfg);
    }
    cfg = load_ok(ACCTS "elasticsearch:\n  url: https://search.example:9243/\n");
    if (cfg) {
        CHECK_STR(cfg->es.urls[0], "https://search.example:9243");
        ct_config_free(cfg);
    }
    /* "name:" + base64("eu-west-1.aws.found.io$abc123$def456") */
    cfg = load_ok(ACCTS "elasticsearch:\n  cloud_id: "
                        "'prod:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRhYmMxMjMkZGVmNDU2'\n");
    if (cfg) {
        CHECK_STR(cfg->es.urls[0], "https://abc123.eu-west-1.aws.found.io");
        ct_config_free(cfg);
    }
    /* base64("host.io:9243$uuid$k") keeps the port. */
    cfg = load_ok(ACCTS "elasticsearch:\n  cloud_id: 'x:aG9zdC5pbzo5MjQzJHV1aWQkaw=='\n");
    if (cfg) {
        CHECK_STR(cfg->es.urls[0], "https://uuid.host.io:9243");
        ct_config_free(cfg);
    }
}

static void test_es_secrets(void)
{
    setenv("CT_TEST_ES_PW", "s3cret", 1);
    setenv("CT_TEST_ES_EMPTY", "", 1);
    unsetenv("CT_TEST_ES_UNSET");
    ct_config *cfg = load_ok(ACCTS "elasticsearch:\n  username: elastic\n"
                                   "  password_env: CT_TEST_ES_PW\n");
    if (cfg) {
        CHECK_STR(cfg->es.username, "elastic");
        CHECK_STR(cfg->es.password, "s3cret");
        ct_config_free(cfg);
    }
    cfg = load_ok(ACCTS "elasticsearch:\n  api_key_env: CT_TEST_ES_PW\n");
    if (cfg) {
        CHECK_STR(cfg->es.api_key, "s3cret");
        ct_config_free(cfg);
    }
    cfg = load_ok(ACCTS "elasticsearch:\n  bearer_token: tok\n");
    if (cfg) {
        CHECK_STR(cfg->es.bearer_token, "tok");
        ct_config_free(cfg);
    }
    cfg = load_ok(ACCTS "elasticsearch:\n  aws_sigv4: {region: eu-west-1}\n");
    if (cfg) {
        CHECK(cfg->es.aws_sigv4);
        CHECK_STR(cfg->es.aws_region, "eu-west-1");
        CHECK_STR(cfg->es.aws_service, "es");
        ct_config_free(cfg);
    }
    cfg = load_ok(ACCTS "elasticsearch:\n  aws_sigv4: {region: us-east-1, service: aoss}\n");
    if (cfg) {
        CHECK_STR(cfg->es.aws_service, "aoss");
        ct_config_free(cfg);
    }

    /* Errors name the variable, never a secret. */
    ct_config *bad = NULL;
    ct_error err;
    CHECK_INT(load(ACCTS "elasticsearch:\n  username: u\n  password: s3cret\n"
                         "  password_env: CT_TEST_ES_PW\n",
                   &bad, &err),
              CT_ECONFIG);
    CHECK(strstr(err.message, "s3cret") == NULL);
    expect_error(ACCTS "elasticsearch:\n  username: u\n  password_env: CT_TEST_ES_UNSET\n", 4, 17,
                 "'CT_TEST_ES_UNSET'");
    expect_error(ACCTS "elasticsearch:\n  username: u\n  password_env: CT_TEST_ES_EMPTY\n", 4, 17,
                 "not set or empty");
}

static void test_es_errors(void)
{
    expect_error(ACCTS "elasticsearch:\n  hots: x\n", 3, 3, "unknown key 'hots'");
    expect_error(ACCTS "elasticsearch:\n  url: http://a\n  host: b\n", 3, 3, "one of");
    expect_error(ACCTS "elasticsearch:\n  url: ftp://a\n", 3, 8, "http://");
    expect_error(ACCTS "elasticsearch:\n  url: 'http://u:p@a'\n", 3, 8, "without credentials");
    expect_error(ACCTS "elasticsearch:\n  port: 9200\n", 3, 9, "goes with");
    expect_error(ACCTS "elasticsearch:\n  host: a\n  scheme: ftp\n", 4, 11, "http or https");
    expect_error(ACCTS "elasticsearch:\n  hosts: ['u:p@a']\n", 3, 11, "without credentials");
    expect_error(ACCTS "elasticsearch:\n  host: a\n  port: 70000\n", 4, 9, "1 to 65535");
    expect_error(ACCTS "elasticsearch:\n  hosts: []\n", 3, 10, "empty");
    expect_error(ACCTS "elasticsearch:\n  cloud_id: 'x:!!!'\n", 3, 13, "Elastic Cloud id");
    expect_error(ACCTS "elasticsearch:\n  schema: flat\n", 3, 11, "auto, keyword");
    expect_error(ACCTS "elasticsearch:\n  insecure: maybe\n", 3, 13, "true or false");
    expect_error(ACCTS "elasticsearch:\n  request_timeout: 0\n", 3, 20, "seconds");
    expect_error(ACCTS "elasticsearch:\n  retries: 11\n", 3, 12, "0 to 10");
    expect_error(ACCTS "elasticsearch:\n  index: 'a b'\n", 3, 10, "not an index name");
    expect_error(ACCTS "elasticsearch:\n  username: u\n", 3, 3, "needs password");
    expect_error(ACCTS "elasticsearch:\n  username: u\n  password: p\n  bearer_token: t\n", 3, 3,
                 "one way to authenticate");
    expect_error(ACCTS "elasticsearch:\n  client_key: k.pem\n", 3, 3, "client_cert");
    expect_error(ACCTS "elasticsearch:\n  aws_sigv4: {service: es}\n", 3, 14, "no region");
    expect_error(ACCTS "elasticsearch:\n  aws_sigv4: {region: x, service: s3}\n", 3, 35,
                 "es or aoss");
    expect_error(ACCTS "elasticsearch:\n  aws_sigv4: {region: x, sevice: es}\n", 3, 26,
                 "unknown key 'sevice'");
    expect_error(ACCTS "elasticsearch: [a]\n", 2, 16, "must be a mapping");
    expect_error(ACCTS "elasticsearch:\n  schema: ecs\n  key_prefix: x.\n", 4, 15,
                 "does not apply");
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

/* Nesting and anchors past the limits stop at the first event past them:
 * libyaml alone takes half a minute over 100,000 levels, and its loader
 * grows with the square of the anchors. */
static void test_yaml_limits(void)
{
    size_t levels = 100000;
    ct_buf b = CT_BUF_INIT;
    ct_buf_puts(&b, "accounts: ");
    for (size_t i = 0; i < levels; i++)
        ct_buf_puts(&b, "[");
    for (size_t i = 0; i < levels; i++)
        ct_buf_puts(&b, "]");
    ct_config *cfg = NULL;
    ct_error err;
    CHECK_INT(ct_config_parse(&cfg, b.data, b.len, "deep.yaml", &err), CT_ECONFIG);
    CHECK(cfg == NULL);
    CHECK_STR(err.file, "deep.yaml");
    /* The root mapping is level 1, so level 65 is the 64th '['. */
    CHECK_INT(err.line, 1);
    CHECK_INT(err.col, 11 + 63);
    CHECK_STR(err.message,
              "lists and mappings nested deeper than 64 levels (the limit for a config file)");

    /* 64 levels are read (and the entry is then refused for what it is). */
    ct_buf_reset(&b);
    ct_buf_puts(&b, "accounts: ");
    for (size_t i = 0; i < 63; i++)
        ct_buf_puts(&b, "[");
    for (size_t i = 0; i < 63; i++)
        ct_buf_puts(&b, "]");
    CHECK_INT(ct_config_parse(&cfg, b.data, b.len, "deep.yaml", &err), CT_ECONFIG);
    CHECK_STR(err.message, "each entry of accounts must be a mapping with name and id");

    /* Block style and mappings count the same way. */
    ct_buf_reset(&b);
    ct_buf_puts(&b, "accounts:\n  ");
    for (size_t i = 0; i < 1000; i++)
        ct_buf_puts(&b, "- ");
    ct_buf_puts(&b, "x\n");
    CHECK_INT(ct_config_parse(&cfg, b.data, b.len, "deep.yaml", &err), CT_ECONFIG);
    CHECK_INT(err.line, 2);
    CHECK(strstr(err.message, "nested deeper than 64 levels") != NULL);
    ct_buf_reset(&b);
    ct_buf_puts(&b, "accounts: []\nx: ");
    for (size_t i = 0; i < levels; i++)
        ct_buf_puts(&b, "{a: ");
    CHECK_INT(ct_config_parse(&cfg, b.data, b.len, "deep.yaml", &err), CT_ECONFIG);
    CHECK(strstr(err.message, "nested deeper than 64 levels") != NULL);

    /* Anchors and aliases: 10,000 together are read, one more is refused. */
    for (int extra = 0; extra < 2; extra++) {
        ct_buf_reset(&b);
        ct_buf_puts(&b, "accounts: [&a {name: a, id: '111111111111'}");
        for (int i = 1; i < CT_CONFIG_MAX_ANCHORS + extra; i++)
            ct_buf_puts(&b, ", *a");
        ct_buf_puts(&b, "]\n");
        CHECK_INT(ct_config_parse(&cfg, b.data, b.len, "anchors.yaml", &err), CT_ECONFIG);
        CHECK(strstr(err.message, extra ? "more than 10000 YAML anchors and aliases"
                                        : "account name 'a' is used twice") != NULL);
    }
    ct_buf_release(&b);
}

/* Many accounts load in linear time, and a duplicate at the very end is
 * found and placed. */
static void test_many_accounts(void)
{
    enum { N = 60000 };
    ct_buf b = CT_BUF_INIT;
    ct_buf_puts(&b, "accounts:\n");
    for (int i = 0; i < N; i++)
        ct_buf_printf(&b, "  - {name: acct-%d, id: '%012d'}\n", i, i);
    ct_config *cfg = NULL;
    ct_error err;
    CHECK_INT(ct_config_parse(&cfg, b.data, b.len, "many.yaml", &err), 0);
    CHECK_INT(cfg ? cfg->account_count : 0, N);
    if (cfg) {
        const ct_account *last = ct_config_find_account(cfg, "acct-59999");
        CHECK(last == &cfg->accounts[N - 1]);
        CHECK_STR(last ? last->id : NULL, "000000059999");
    }
    ct_config_free(cfg);

    ct_buf_puts(&b, "  - {name: late, id: '000000000007'}\n");
    CHECK_INT(ct_config_parse(&cfg, b.data, b.len, "many.yaml", &err), CT_ECONFIG);
    CHECK_INT(err.line, N + 2);
    CHECK_INT(err.col, 5);
    CHECK_STR(err.message, "account id 000000000007 is used twice (first on line 9)");
    ct_buf_release(&b);
}

/* Files that are not regular files or are too large are refused by what
 * they are, before anything is read. */
static void test_config_file_kinds(void)
{
    ct_config *cfg = NULL;
    ct_error err;
    CHECK_INT(ct_config_load(&cfg, dir, &err), CT_ECONFIG);
    CHECK_STR(err.file, dir);
    CHECK_STR(err.message, "cannot read config: it is a folder, not a regular file");

    char path[600];
    snprintf(path, sizeof(path), "%s/big.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs("accounts: []\n", f);
    CHECK(ftruncate(fileno(f), (off_t)CT_CONFIG_MAX_BYTES + 1) == 0); /* sparse */
    fclose(f);
    CHECK_INT(ct_config_load(&cfg, path, &err), CT_ECONFIG);
    CHECK_STR(err.file, path);
    CHECK_STR(err.message, "cannot read config: the file is larger than the 16 MiB limit");
    /* At the limit exactly it is read (and the NUL bytes then refused). */
    f = fopen(path, "r+");
    CHECK(ftruncate(fileno(f), (off_t)CT_CONFIG_MAX_BYTES) == 0);
    fclose(f);
    CHECK_INT(ct_config_load(&cfg, path, &err), CT_ECONFIG);
    CHECK(strstr(err.message, "limit") == NULL);
    unlink(path);
}

/* accounts[].credential_report: optional, resolved like iam (relative to
 * the config's folder, ~ for HOME), never empty, one value; a misspelt key
 * is still refused. */
static void test_credential_report(void)
{
    ct_config *cfg = load_ok("accounts:\n  - name: demo\n    id: '111111111111'\n"
                             "    iam: iam/demo.json\n    credential_report: reports/demo.csv\n"
                             "  - name: b\n    id: '222222222222'\n"
                             "    credential_report: /abs/b.csv\n"
                             "  - {name: c, id: '333333333333'}\n");
    if (cfg) {
        char want[600];
        snprintf(want, sizeof(want), "%s/reports/demo.csv", dir);
        CHECK_STR(cfg->accounts[0].credential_report_path, want);
        snprintf(want, sizeof(want), "%s/iam/demo.json", dir);
        CHECK_STR(cfg->accounts[0].iam_path, want);
        CHECK_STR(cfg->accounts[1].credential_report_path, "/abs/b.csv");
        CHECK(cfg->accounts[2].credential_report_path == NULL);
        ct_config_free(cfg);
    }
    const char *env = getenv("HOME");
    char *saved = env ? ct_strdup(env) : NULL;
    setenv("HOME", "/home/ct-test", 1);
    cfg = load_ok("accounts:\n  - {name: a, id: '111111111111', credential_report: ~/r.csv}\n");
    CHECK_STR(cfg ? cfg->accounts[0].credential_report_path : NULL, "/home/ct-test/r.csv");
    ct_config_free(cfg);
    if (saved)
        setenv("HOME", saved, 1);
    else
        unsetenv("HOME");
    free(saved);

    expect_error("accounts:\n  - name: demo\n    id: '111111111111'\n    credential_report: ''\n",
                 4, 24, "the credential_report file of account 'demo' is empty");
    expect_error("accounts:\n  - {name: demo, id: '111111111111', credential_report: ~}\n", 2, 57,
                 "the credential_report file of account 'demo' is empty: YAML reads a plain '~' "
                 "as null");
    expect_error("accounts:\n  - name: demo\n    id: '111111111111'\n"
                 "    credential_report: [a.csv, b.csv]\n",
                 4, 24, "credential_report must be a single value, not a list");
    expect_error("accounts:\n  - name: demo\n    id: '111111111111'\n"
                 "    credential_reports: a.csv\n",
                 4, 5, "unknown key 'credential_reports' in an account");
    expect_error("accounts:\n  - name: demo\n    id: '111111111111'\n"
                 "    credential_report: a.csv\n    credential_report: b.csv\n",
                 5, 5, "key 'credential_report' appears twice");
}

/* A leading ~ in every path setting is the home folder. */
static void test_home_paths(void)
{
    const char *env = getenv("HOME");
    char *saved = env ? ct_strdup(env) : NULL;
    char home[400], want[600];
    snprintf(home, sizeof(home), "%s/home", dir);
    setenv("HOME", home, 1);
    ct_config *cfg = load_ok("accounts:\n"
                             "  - {name: a, id: '111111111111', iam: ~/iam/a.json}\n"
                             "  - {name: b, id: '222222222222', iam: '~'}\n"
                             "  - {name: c, id: '333333333333', iam: a~/b.json}\n"
                             "files:\n  paths: [~/logs, /x/~/y]\n  store: ~/ct/store.db\n"
                             "elasticsearch:\n  ca_cert: ~/ca.pem\n  client_cert: \"~/c.pem\"\n"
                             "  client_key: ~/k.pem\n");
    if (cfg) {
        snprintf(want, sizeof(want), "%s/iam/a.json", home);
        CHECK_STR(cfg->accounts[0].iam_path, want);
        CHECK_STR(cfg->accounts[1].iam_path, home);
        snprintf(want, sizeof(want), "%s/a~/b.json", dir); /* only a leading ~ */
        CHECK_STR(cfg->accounts[2].iam_path, want);
        snprintf(want, sizeof(want), "%s/logs", home);
        CHECK_STR(cfg->log_paths[0], want);
        CHECK_STR(cfg->log_paths[1], "/x/~/y");
        snprintf(want, sizeof(want), "%s/ct/store.db", home);
        CHECK_STR(cfg->store_path, want);
        snprintf(want, sizeof(want), "%s/ca.pem", home);
        CHECK_STR(cfg->es.ca_cert, want);
        snprintf(want, sizeof(want), "%s/c.pem", home);
        CHECK_STR(cfg->es.client_cert, want);
        snprintf(want, sizeof(want), "%s/k.pem", home);
        CHECK_STR(cfg->es.client_key, want);
        ct_config_free(cfg);
    }
    /* A trailing slash in HOME is not doubled; HOME=/ gives /x. */
    snprintf(want, sizeof(want), "%s/", home);
    setenv("HOME", want, 1);
    cfg = load_ok("accounts: []\nfiles: {store: ~/s.db}\n");
    snprintf(want, sizeof(want), "%s/s.db", home);
    CHECK_STR(cfg ? cfg->store_path : NULL, want);
    ct_config_free(cfg);
    setenv("HOME", "/", 1);
    cfg = load_ok("accounts: []\nfiles: {store: ~/s.db}\n");
    CHECK_STR(cfg ? cfg->store_path : NULL, "/s.db");
    ct_config_free(cfg);

    /* ~user is that user's home folder (from the password database). */
    const struct passwd *pw = getpwuid(getuid());
    if (pw && pw->pw_name && pw->pw_dir && pw->pw_dir[0] && strlen(pw->pw_dir) > 1) {
        char text[600];
        snprintf(text, sizeof(text), "accounts: []\nfiles: {store: '~%s/s.db'}\n", pw->pw_name);
        snprintf(want, sizeof(want), "%s/s.db", pw->pw_dir);
        cfg = load_ok(text);
        CHECK_STR(cfg ? cfg->store_path : NULL, want);
        ct_config_free(cfg);
    }
    expect_error("accounts: []\nfiles: {store: ~no-such-user-ct/s.db}\n", 2, 16,
                 "files.store starts with ~no-such-user-ct but there is no user no-such-user-ct");

    unsetenv("HOME");
    expect_error("accounts:\n  - name: a\n    id: '111111111111'\n    iam: ~/a.json\n", 4, 10,
                 "the iam file of account 'a' starts with ~ but HOME is not set");
    setenv("HOME", "", 1);
    expect_error("accounts: []\nfiles:\n  paths: ['~']\n", 3, 11,
                 "an entry of files.paths starts with ~ but HOME is not set");
    /* Without a ~, HOME is not needed. */
    cfg = load_ok("accounts: []\nfiles: {store: s.db}\n");
    ct_config_free(cfg);

    if (saved)
        setenv("HOME", saved, 1);
    else
        unsetenv("HOME");
    free(saved);
}

/* An empty or null path setting is a config error naming the setting and
 * where it is, not a "cannot open" later. */
static void test_empty_paths(void)
{
    expect_error("accounts:\n  - name: demo\n    id: '111111111111'\n    iam: ''\n", 4, 10,
                 "the iam file of account 'demo' is empty");
    expect_error("accounts:\n  - name: demo\n    id: '111111111111'\n    iam:\n", 4, 9,
                 "the iam file of account 'demo' is empty");
    expect_error("accounts:\n  - {name: demo, id: '111111111111', iam: ~}\n", 2, 43,
                 "the iam file of account 'demo' is empty: YAML reads a plain '~' as null "
                 "(quote it, '~', for the home folder)");
    expect_error("accounts: []\nfiles:\n  store: null\n", 3, 10,
                 "files.store is empty: YAML reads a plain 'null' as null");
    expect_error("accounts: []\nfiles:\n  store: ''\n", 3, 10, "files.store is empty");
    expect_error("accounts: []\nfiles:\n  paths: [a, '']\n", 3, 14,
                 "an entry of files.paths is empty");
    expect_error("accounts: []\nelasticsearch:\n  ca_cert: ''\n", 3, 12,
                 "elasticsearch.ca_cert is empty");
    expect_error("accounts: []\nelasticsearch:\n  client_cert: ~\n", 3, 16,
                 "elasticsearch.client_cert is empty: YAML reads a plain '~' as null");
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
    RUN(test_identity_store);
    RUN(test_files_and_window);
    RUN(test_errors);
    RUN(test_resolve);
    RUN(test_es_defaults);
    RUN(test_es_hosts);
    RUN(test_es_secrets);
    RUN(test_es_errors);
    RUN(test_yaml_limits);
    RUN(test_many_accounts);
    RUN(test_config_file_kinds);
    RUN(test_home_paths);
    RUN(test_credential_report);
    RUN(test_empty_paths);
    char path[600];
    snprintf(path, sizeof(path), "%s/c.yaml", dir);
    unlink(path);
    rmdir(dir);
    TEST_MAIN_END();
}

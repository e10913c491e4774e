/* Unit tests for what the Elasticsearch transport decides before sending
 * anything: which hosts count as this machine (for the warning about
 * credentials over plain http://), the response size limit's setting,
 * secrets refused because a control byte would break the HTTP header; and
 * the JSON string literals requests are written with. */
#include "cloudtracker/config.h"
#include "cloudtracker/es.h"
#include "es/es_http.h"
#include "test.h"

#include <stdlib.h>

static ct_config *parse(const char *text, ct_error *err)
{
    ct_config *cfg = NULL;
    ct_error_clear(err);
    if (ct_config_parse(&cfg, text, strlen(text), "t.yaml", err) != 0)
        return NULL;
    return cfg;
}

static void test_loopback(void)
{
    static const char *const local[] = {
        "http://localhost:9200",    "http://LOCALHOST:9200/prefix", "http://localhost.:9200",
        "http://es.localhost:9200", "http://127.0.0.1:9200",        "http://127.255.3.4",
        "http://[::1]:9200",        "http://[::ffff:127.0.0.1]:80", "localhost:9200",
    };
    static const char *const remote[] = {
        "http://es.example.com:9200",
        "http://10.0.0.1:9200",
        "http://128.0.0.1:9200",
        "http://127.example.com:9200",
        "http://localhost.example.com",
        "http://[::2]:9200",
        "http://[::ffff:10.0.0.1]:9200",
        "http://notlocalhost:9200",
        "http://[::1",
        "http://:9200",
    };
    for (size_t i = 0; i < sizeof(local) / sizeof(*local); i++)
        if (!ct_es_url_is_loopback(local[i])) {
            fprintf(stderr, "not loopback: %s\n", local[i]);
            CHECK(0);
        }
    for (size_t i = 0; i < sizeof(remote) / sizeof(*remote); i++)
        if (ct_es_url_is_loopback(remote[i])) {
            fprintf(stderr, "loopback: %s\n", remote[i]);
            CHECK(0);
        }
}

/* The URL the CLI warns about for an elasticsearch: section, or NULL. */
static const char *cleartext(const char *section, char *out, size_t size)
{
    char text[1024];
    snprintf(text, sizeof(text), "accounts: []\nelasticsearch:\n%s", section);
    ct_error err;
    ct_config *cfg = parse(text, &err);
    CHECK(cfg != NULL);
    if (!cfg) {
        fprintf(stderr, "%s\n", err.message);
        return NULL;
    }
    const char *url = ct_es_cleartext_url(&cfg->es);
    if (url)
        snprintf(out, size, "%s", url);
    ct_config_free(cfg);
    return url ? out : NULL;
}

static void test_cleartext(void)
{
    char buf[256];
    setenv("CT_TEST_ES_SECRET", "s3cret", 1);
    /* Each kind of credential, to another machine over http. */
    CHECK_STR(cleartext("  url: http://es.example.com:9200\n  username: u\n  password: p\n", buf,
                        sizeof(buf)),
              "http://es.example.com:9200");
    CHECK_STR(
        cleartext("  host: es.example.com\n  api_key_env: CT_TEST_ES_SECRET\n", buf, sizeof(buf)),
        "http://es.example.com:9200");
    CHECK_STR(cleartext("  url: http://10.1.2.3:9200/es\n  bearer_token: t\n", buf, sizeof(buf)),
              "http://10.1.2.3:9200/es");
    CHECK_STR(cleartext("  url: http://search.example\n  aws_sigv4: {region: eu-west-1}\n", buf,
                        sizeof(buf)),
              "http://search.example");
    /* The first such host of several; loopback ones do not count. */
    CHECK_STR(cleartext("  hosts: [localhost, 'https://a.example', b.example, c.example]\n"
                        "  bearer_token: t\n",
                        buf, sizeof(buf)),
              "http://b.example:9200");
    /* No warning: https, loopback, or nothing secret to send. */
    CHECK(cleartext("  url: https://es.example.com:9200\n  bearer_token: t\n", buf, sizeof(buf)) ==
          NULL);
    CHECK(cleartext("  hosts: [localhost, 127.0.0.1, '[::1]']\n  bearer_token: t\n", buf,
                    sizeof(buf)) == NULL);
    CHECK(cleartext("  url: http://es.example.com:9200\n", buf, sizeof(buf)) == NULL);
    CHECK(cleartext("  cloud_id: 'c:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRhYmMkZGVm'\n"
                    "  bearer_token: t\n",
                    buf, sizeof(buf)) == NULL);
    unsetenv("CT_TEST_ES_SECRET");
}

static void test_max_response_bytes(void)
{
    ct_error err;
    ct_config *cfg = parse("accounts: []\nelasticsearch:\n  url: http://localhost:9200\n", &err);
    CHECK(cfg != NULL);
    if (cfg)
        CHECK_INT(cfg->es.max_response_bytes, 256L << 20);
    ct_config_free(cfg);
    /* The original tool's empty section gets the default too. */
    cfg = parse("accounts: []\nelasticsearch:\n", &err);
    CHECK(cfg != NULL);
    if (cfg)
        CHECK_INT(cfg->es.max_response_bytes, 256L << 20);
    ct_config_free(cfg);
    cfg = parse("accounts: []\nelasticsearch:\n  max_response_bytes: 1048576\n", &err);
    CHECK(cfg != NULL);
    if (cfg)
        CHECK_INT(cfg->es.max_response_bytes, 1048576);
    ct_config_free(cfg);
    static const char *const bad[] = {"1048575", "1073741825", "-1", "1e9", "big"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        char text[200];
        snprintf(text, sizeof(text), "accounts: []\nelasticsearch:\n  max_response_bytes: %s\n",
                 bad[i]);
        CHECK(parse(text, &err) == NULL);
        CHECK_INT(err.code, CT_ECONFIG);
        CHECK_INT(err.line, 3);
        CHECK_STR(err.message, "elasticsearch.max_response_bytes must be a whole number from "
                               "1048576 to 1073741824");
    }
}

/* Parses an elasticsearch: section that must be refused for a control
 * byte in a secret: the message names `what` and never the value. */
static void expect_refused(const char *section, const char *what, int line)
{
    char text[512], want[300];
    snprintf(text, sizeof(text), "accounts: []\nelasticsearch:\n  url: http://localhost:9200\n%s",
             section);
    ct_error err;
    ct_config *cfg = parse(text, &err);
    CHECK(cfg == NULL);
    ct_config_free(cfg);
    CHECK_INT(err.code, CT_ECONFIG);
    CHECK_INT(err.line, line);
    snprintf(want, sizeof(want),
             "%s holds a control character (a byte below 0x20, or 0x7f), which cannot be sent "
             "in an HTTP header",
             what);
    CHECK_STR(err.message, want);
    CHECK(strstr(err.message, "S3CRET") == NULL);
}

static void test_control_bytes_in_secrets(void)
{
    expect_refused("  bearer_token: \"S3CRET\\r\\nX-Injected: yes\"\n",
                   "elasticsearch.bearer_token", 4);
    expect_refused("  api_key: \"id:S3CRET\\x7f\"\n", "elasticsearch.api_key", 4);
    expect_refused("  username: \"S3CRET\\nX: y\"\n  password: p\n", "elasticsearch.username", 4);
    expect_refused("  username: u\n  password: \"S3CRET\\t\"\n", "elasticsearch.password", 5);
    setenv("CT_TEST_ES_BAD", "S3CRET\r\nX-Injected: yes", 1);
    expect_refused("  bearer_token_env: CT_TEST_ES_BAD\n",
                   "environment variable 'CT_TEST_ES_BAD' (elasticsearch.bearer_token_env)", 4);
    expect_refused("  api_key_env: CT_TEST_ES_BAD\n",
                   "environment variable 'CT_TEST_ES_BAD' (elasticsearch.api_key_env)", 4);
    expect_refused("  username: u\n  password_env: CT_TEST_ES_BAD\n",
                   "environment variable 'CT_TEST_ES_BAD' (elasticsearch.password_env)", 5);
    unsetenv("CT_TEST_ES_BAD");
    /* Printable bytes, spaces and UTF-8 are fine. */
    ct_error err;
    ct_config *cfg = parse("accounts: []\nelasticsearch:\n  username: \"j\xc3\xa9r\xc3\xb4me x\"\n"
                           "  password: \"p a~ss\"\n",
                           &err);
    CHECK(cfg != NULL);
    if (cfg)
        CHECK_STR(cfg->es.password, "p a~ss");
    ct_config_free(cfg);
}

/* JSON string literals: plain runs kept, quotes, backslashes and control
 * bytes escaped, UTF-8 and DEL as they are. */
static void test_json_string(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", "\"\""},
        {"arn:aws:s3:::a", "\"arn:aws:s3:::a\""},
        {"a\nb", "\"a\\u000ab\""},
        {"\"", "\"\\\"\""},
        {"x\\\"y\\", "\"x\\\\\\\"y\\\\\""},
        {"\x01\x1f \x7f\xc3\xa9", "\"\\u0001\\u001f \x7f\xc3\xa9\""},
        {"tab\there\r", "\"tab\\u0009here\\u000d\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ct_buf b = CT_BUF_INIT;
        ct_buf_puts(&b, "[");
        CHECK_INT(ct_es_json_string(&b, cases[i].in), 0);
        CHECK_STR(b.data + 1, cases[i].want);
        ct_buf_release(&b);
    }
}

int main(void)
{
    RUN(test_json_string);
    RUN(test_loopback);
    RUN(test_cleartext);
    RUN(test_max_response_bytes);
    RUN(test_control_bytes_in_secrets);
    TEST_MAIN_END();
}

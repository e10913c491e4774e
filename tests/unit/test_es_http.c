/* Unit tests for what the Elasticsearch transport decides before sending
 * anything: the response size limit's setting. */
#include "cloudtracker/config.h"
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

int main(void)
{
    RUN(test_max_response_bytes);
    TEST_MAIN_END();
}

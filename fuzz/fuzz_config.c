/* libFuzzer target for the config loader: any bytes must give a config or
 * a CT_ECONFIG/CT_ENOMEM error, never a crash, and a loaded config must hold
 * what the loader promises (12-digit ids, resolved paths). */
#include "cloudtracker/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_config *cfg = NULL;
    ct_error err;
    int rc = ct_config_parse(&cfg, (const char *)data, size, "/etc/ct/fuzz.yaml", &err);
    if (rc != 0) {
        if ((rc != CT_ECONFIG && rc != CT_ENOMEM) || cfg)
            abort();
        return 0;
    }
    for (size_t i = 0; i < cfg->account_count; i++) {
        const ct_account *a = &cfg->accounts[i];
        if (strlen(a->id) != 12 || !a->name[0])
            abort();
        if (ct_config_find_account(cfg, a->name) == NULL)
            abort();
        if (a->iam_path && a->iam_path[0] != '/')
            abort();
    }
    for (size_t i = 0; i < cfg->log_path_count; i++)
        if (cfg->log_paths[i][0] != '/')
            abort();
    if (!cfg->store_path || cfg->store_path[0] != '/')
        abort();
    ct_config_free(cfg);
    return 0;
}

/* libFuzzer target for reading a previous review (--compare): any bytes give
 * a parsed review or a CT_ECOMPARE/CT_ENOMEM error, never a crash; a parsed
 * one compares with a review of nothing as every identity removed, once. */
#include "cloudtracker/analysis.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_review_previous *previous = NULL;
    ct_error err;
    int rc = ct_review_previous_parse(&previous, (const char *)data, size, "fuzz.json", &err);
    if (rc != 0) {
        if ((rc != CT_ECOMPARE && rc != CT_ENOMEM) || previous)
            abort();
        return 0;
    }
    ct_review empty;
    memset(&empty, 0, sizeof(empty));
    ct_review_changes changes;
    if (ct_review_compare(&empty, previous, &changes, &err) == 0) {
        if (changes.removed != changes.count || changes.added || changes.revoked)
            abort();
        for (size_t i = 0; i < changes.count; i++)
            if (changes.items[i].presence != CT_PRESENCE_REMOVED || !changes.items[i].name ||
                changes.items[i].identity != SIZE_MAX)
                abort();
        ct_review_changes_release(&changes);
    }
    ct_review_previous_free(previous);
    return 0;
}

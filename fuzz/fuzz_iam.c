/* libFuzzer target for the authorization-details loader and the policy
 * engine: load the input, then for every principal expand its grants and
 * decide each action, aborting if the two ever disagree. */
#include "cloudtracker/actions.h"
#include "cloudtracker/iam.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small catalog (several services, shared prefixes, near-miss service
 * names) keeps each run fast while exercising every expansion path. */
static const char CATALOG_TSV[] = "a:b\tRead\n"
                                  "ec2:DescribeInstances\tList\n"
                                  "ec2:DescribeVpcs\tList\n"
                                  "ec2:RunInstances\tWrite\n"
                                  "ec2:TerminateInstances\tWrite\n"
                                  "ec2messages:GetMessages\tRead\n"
                                  "iam:CreateUser\tWrite\n"
                                  "iam:GetUser\tRead\n"
                                  "iam:ListUsers\tList\n"
                                  "iam:PassRole\tWrite\n"
                                  "kms:Decrypt\tWrite\n"
                                  "s3:GetBucketAcl\tRead\n"
                                  "s3:GetObject\tRead\n"
                                  "s3:GetObjectAcl\tRead\n"
                                  "s3:ListAllMyBuckets\tList\n"
                                  "s3:PutObject\tWrite\n"
                                  "s3:TagResource\tTagging\n"
                                  "s3-object-lambda:GetObject\tRead\n"
                                  "sts:AssumeRole\tWrite\n"
                                  "x-y.z_w:A1\tRead\n";

static const ct_catalog *catalog(void)
{
    static ct_catalog *cat;
    if (!cat) {
        ct_error err;
        if (ct_catalog_load_tsv(&cat, CATALOG_TSV, sizeof(CATALOG_TSV) - 1, "fuzz catalog", &err) !=
            0)
            abort();
    }
    return cat;
}

static void check_principal(const ct_iam *iam, const ct_principal *p)
{
    const ct_catalog *cat = catalog();
    const ct_policy_set *set = ct_iam_policies(iam, p);
    if (!set || !p->name || !p->arn || !p->create_date)
        abort();
    ct_grants *g = NULL;
    ct_error err;
    if (ct_policy_expand(&g, set, cat, &err) != 0)
        return; /* out of memory */
    size_t count = 0;
    for (size_t i = 0; i < ct_catalog_count(cat); i++) {
        ct_decision d;
        ct_policy_decide(set, ct_catalog_name(cat, i), &d);
        if (d.granted != ct_grants_has(g, i))
            abort();
        if (d.granted != (d.allowed && !d.denied && !d.outside_boundary))
            abort();
        if (d.note_count > CT_DECISION_MAX_NOTES || (d.allowed && !d.allowed_by) ||
            (d.denied && !d.denied_by))
            abort();
        for (size_t k = 0; k < d.note_count; k++)
            if (!d.notes[k].policy || !d.notes[k].sid || !d.notes[k].limit[0])
                abort();
        count += d.granted;
    }
    if (count != ct_grants_count(g))
        abort();
    ct_grants_free(g);
    /* Actions outside the catalog go through the same code. */
    static const char *const extra[] = {"", "*", "nosuch:thing", "s3:", ":", "iam:createuser:x"};
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        ct_decision d;
        ct_policy_decide(set, extra[i], &d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_iam *iam = NULL;
    ct_error err;
    ct_error_clear(&err);
    int rc = ct_iam_load_buffer(&iam, (const char *)data, size, "fuzz.json", &err);
    if (rc != 0) {
        if ((rc != CT_EIAM && rc != CT_ENOMEM) || iam || err.code != rc || !err.message[0])
            abort();
        return 0;
    }
    static const ct_principal_kind kinds[] = {CT_PRINCIPAL_USER, CT_PRINCIPAL_ROLE};
    for (size_t k = 0; k < 2; k++) {
        size_t n = ct_iam_count(iam, kinds[k]);
        for (size_t i = 0; i < n; i++) {
            const ct_principal *p = ct_iam_get(iam, kinds[k], i);
            if (!p || p->kind != kinds[k])
                abort();
            if (i > 0 && strcmp(ct_iam_get(iam, kinds[k], i - 1)->name, p->name) >= 0)
                abort(); /* sorted and unique */
            if (ct_iam_find(iam, kinds[k], p->name) != p)
                abort();
            check_principal(iam, p);
        }
    }
    ct_iam_free(iam);
    return 0;
}

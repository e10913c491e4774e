/* A hand-built access review for the renderers' tests (test_review_render.c
 * and tests/tools/review_render.c, which the browser test uses): two
 * accounts, users whose names a spreadsheet or a browser could take for
 * code, roles with their people, people with their roles, a dormant user,
 * administrators, a credential report for one account, and what changed
 * since a previous review. Everything lives in the struct but the
 * credential report: release it with review_fixture_release. */
#ifndef CT_TEST_REVIEW_FIXTURE_H
#define CT_TEST_REVIEW_FIXTURE_H

#include "cloudtracker/report.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FIXTURE_IDENTITIES 12

typedef struct review_fixture {
    ct_account_view views[2];
    ct_review_account accounts[2];
    ct_window prod_empty[2], dev_empty[2];
    char *prod_regions[3];
    ct_data_event prod_data[1];
    ct_identity_user sso_user, bob_user;
    ct_person persons[3];
    ct_review_identity ids[FIXTURE_IDENTITIES];
    ct_review_use deploy_people[2], sso_people[1], alice_roles[2], evil_roles[1];
    ct_review_change items[6];
    ct_credential_report *credentials;
    ct_review_changes changes;
    ct_review review;
    ct_review_report report;
} review_fixture;

/* The names of the fixture's identities, in the review's order. */
static const char *const fixture_names[FIXTURE_IDENTITIES] = {
    "=1+2", "@admin", "<script>alert(1)</script>", "a\"b,c", "deploy", "AWSServiceRoleForSupport",
    "+cmd", "-x", "AWSReservedSSO_Admin_0123456789abcdef", "alice", "=evil",
    /* CR LF, a right-to-left override and a byte that is not UTF-8 */
    "Bob\r\nSmith \xE2\x80\xAEgnp.exe \xFF"};

static const char *const fixture_used_u0[] = {"s3:getobject", "s3:listbucket",
                                              "sts:getcalleridentity"};
static const char *const fixture_unused_u0[] = {"iam:createuser", "iam:putuserpolicy",
                                                "s3:deletebucket"};
static const char *const fixture_unknown_u0[] = {"s3:getbucketacl"};
static const char *const fixture_plus_u0[] = {"ec2:describeinstances"};
static const char *const fixture_denied_u0[] = {"iam:deleteuser"};
static const char *const fixture_priv_u0[] = {"iam:createuser", "iam:putuserpolicy"};
static const char *const fixture_unused_u1[] = {"iam:createuser", "s3:getobject"};
static const char *const fixture_priv_u1[] = {"iam:createuser"};
static const char *const fixture_used_s3[] = {"s3:getobject"};
static const char *const fixture_used_deploy[] = {"cloudformation:createstack",
                                                  "cloudformation:updatestack"};
static const char *const fixture_unused_deploy[] = {"kms:createkey", "s3:putobject"};
static const char *const fixture_priv_deploy[] = {"kms:createkey"};
static const char *const fixture_unused_sso[] = {
    "iam:attachrolepolicy", "iam:createrole", "organizations:createaccount",
    "s3:deletebucket",      "s3:getobject",   "sts:assumerole",
    "kms:decrypt"};
static const char *const fixture_added_u0[] = {"s3:deletebucket"};
static const char *const fixture_removed_u0[] = {"iam:deleteuser"};
static const char *const fixture_revoked_u0[] = {"iam:deleteuser"};
static const char *const fixture_still_u0[] = {"iam:createuser"};
static const char *const fixture_argv[] = {"cloudtracker", "review",   "--format",
                                           "html",         "--output", "review 2024Q1.html",
                                           "--account",    "it's"};
static const char *const fixture_warnings[] = {
    "trail file logs/2024/01/x.json.gz: read in part (3 records rejected)",
    "<b>not bold</b> & a warning naming \"=1+2\""};

#define FIXTURE_LIST(field, names)                                                                 \
    do {                                                                                           \
        (field) = (const char **)(names);                                                          \
        (field##_count) = sizeof(names) / sizeof((names)[0]);                                      \
    } while (0)

static void fixture_identity(review_fixture *f, size_t i, ct_review_kind kind, size_t account,
                             const char *arn, const char *created, int64_t last_day,
                             ct_dormancy dormant)
{
    ct_review_identity *id = &f->ids[i];
    id->kind = kind;
    id->account = kind == CT_REVIEW_PERSON ? NULL : &f->views[account];
    id->name = fixture_names[i];
    id->arn = arn;
    id->created = created;
    id->last_day = last_day;
    id->dormant = dormant;
}

/* prod's credential report: the root user with an access key unused for
 * long, =1+2 with a password in use and no MFA, @admin with a key never
 * used since it was made, a"b,c with a password never used; the
 * <script> user has no row. */
static const char fixture_credential_report[] =
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
    "<root_account>,arn:aws:iam::111111111111:root,2018-01-01T00:00:00+00:00,not_supported,"
    "2024-03-01T00:00:00+00:00,not_supported,not_supported,true,true,2018-01-02T00:00:00+00:00,"
    "2023-06-01T00:00:00+00:00,us-east-1,iam,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    "=1+2,arn:aws:iam::111111111111:user/=1+2,2020-01-02T03:04:05+00:00,true,"
    "2024-03-20T10:00:00+00:00,2020-01-02T03:05:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,"
    "N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    "@admin,arn:aws:iam::111111111111:user/@admin,2019-05-06T00:00:00+00:00,false,N/A,N/A,N/A,"
    "true,true,2019-05-06T00:01:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    "\"a\"\"b,c\",\"arn:aws:iam::111111111111:user/a\"\"b,c\",2024-03-01T00:00:00+00:00,true,"
    "no_information,2023-11-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,"
    "N/A,false,N/A,false,N/A\n";

/* Fills *f; `incomplete` and `with_changes` choose the report's variant.
 * Returns false when the credential report does not load. */
static bool review_fixture_init(review_fixture *f, bool incomplete, bool with_changes)
{
    memset(f, 0, sizeof(*f));
    int64_t first = ct_days_from_civil(2024, 1, 1), end = ct_days_from_civil(2024, 3, 31);
    f->views[0] = (ct_account_view){"prod", "111111111111", NULL};
    f->views[1] = (ct_account_view){"dev & <test>", "222222222222", NULL};

    ct_review_account *prod = &f->accounts[0], *dev = &f->accounts[1];
    prod->view = &f->views[0];
    prod->iam_path = "iam/prod.json";
    prod->iam_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    prod->iam_latest_date = "2024-03-30T12:00:00Z";
    prod->users = 4;
    prod->roles = 2;
    prod->coverage.events = 5000;
    prod->coverage.day_count = 87;
    f->prod_regions[0] = "";
    f->prod_regions[1] = "eu-west-1";
    f->prod_regions[2] = "us-east-1";
    prod->coverage.regions = f->prod_regions;
    prod->coverage.region_count = 3;
    f->prod_data[0] = (ct_data_event){"s3.amazonaws.com", "GetObject", 1, 300, first, end};
    prod->coverage.data.items = f->prod_data;
    prod->coverage.data.count = 1;
    prod->coverage.files_known = true;
    prod->coverage.files_read = 10;
    prod->coverage.files_partial = 1;
    prod->coverage.files_skipped = 2;
    f->prod_empty[0] = (ct_window){ct_days_from_civil(2024, 1, 5), ct_days_from_civil(2024, 1, 7)};
    f->prod_empty[1] =
        (ct_window){ct_days_from_civil(2024, 2, 29), ct_days_from_civil(2024, 2, 29)};
    prod->empty_runs = f->prod_empty;
    prod->empty_run_count = 2;
    prod->empty_day_count = 4;

    ct_error err;
    if (ct_credential_report_load_buffer(&f->credentials, fixture_credential_report,
                                         strlen(fixture_credential_report), "fixture.csv",
                                         &err) != 0) {
        fprintf(stderr, "fixture: %s\n", err.message);
        return false;
    }
    prod->credentials = f->credentials;
    prod->credentials_path = "credentials/prod <report>.csv";
    prod->root = ct_credential_report_find_arn(f->credentials, "arn:aws:iam::111111111111:root");
    if (prod->root)
        ct_credential_dormancy_check(&prod->root_check, prod->root, end, 90);

    dev->view = &f->views[1];
    dev->iam_path = "iam/dev <&>.json";
    dev->iam_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    dev->iam_latest_date = "";
    dev->users = 2;
    dev->roles = 1;
    dev->coverage.events = 42;
    dev->coverage.day_count = 89;
    f->dev_empty[0] = (ct_window){first, first};
    f->dev_empty[1] = (ct_window){end, end};
    dev->empty_runs = f->dev_empty;
    dev->empty_run_count = 2;
    dev->empty_day_count = 2;

    /* prod's users */
    fixture_identity(f, 0, CT_REVIEW_USER, 0, "arn:aws:iam::111111111111:user/=1+2",
                     "2020-01-02T03:04:05Z", end - 5, CT_DORMANT_NO);
    ct_review_identity *id = &f->ids[0];
    id->admin = CT_ADMIN_ESCALATION;
    id->admin_via = "iam:createpolicyversion";
    FIXTURE_LIST(id->actions.used, fixture_used_u0);
    FIXTURE_LIST(id->actions.unused, fixture_unused_u0);
    FIXTURE_LIST(id->actions.unknown, fixture_unknown_u0);
    FIXTURE_LIST(id->actions.not_granted, fixture_plus_u0);
    FIXTURE_LIST(id->actions.attempted, fixture_denied_u0);
    FIXTURE_LIST(id->actions.privileged_unused, fixture_priv_u0);
    id->actions.calls = 120;
    id->actions.failed_calls = 4;

    fixture_identity(f, 1, CT_REVIEW_USER, 0, "arn:aws:iam::111111111111:user/@admin",
                     "2019-05-06T00:00:00Z", -1, CT_DORMANT_YES);
    id = &f->ids[1];
    id->admin = CT_ADMIN_ALL_ACTIONS;
    FIXTURE_LIST(id->actions.unused, fixture_unused_u1);
    FIXTURE_LIST(id->actions.unknown, fixture_unknown_u0);
    FIXTURE_LIST(id->actions.privileged_unused, fixture_priv_u1);

    fixture_identity(f, 2, CT_REVIEW_USER, 0,
                     "arn:aws:iam::111111111111:user/<script>alert(1)</script>", "", end - 40,
                     CT_DORMANT_NO);
    FIXTURE_LIST(f->ids[2].actions.used, fixture_used_s3);
    f->ids[2].actions.calls = 7;

    /* created inside the dormancy period: new, not idle */
    fixture_identity(f, 3, CT_REVIEW_USER, 0, "arn:aws:iam::111111111111:user/a\"b,c",
                     "2024-03-01T00:00:00Z", -1, CT_DORMANT_NO);

    /* prod's roles */
    fixture_identity(f, 4, CT_REVIEW_ROLE, 0, "arn:aws:iam::111111111111:role/deploy",
                     "2021-06-01T00:00:00Z", end - 1, CT_DORMANT_NO);
    id = &f->ids[4];
    FIXTURE_LIST(id->actions.used, fixture_used_deploy);
    FIXTURE_LIST(id->actions.unused, fixture_unused_deploy);
    FIXTURE_LIST(id->actions.privileged_unused, fixture_priv_deploy);
    id->actions.calls = 55;
    id->sessions = 6;
    id->anonymous_sessions = 2;
    f->deploy_people[0] =
        (ct_review_use){.identity = 9, .sessions = 3, .high = true, .last_day = end - 1};
    f->deploy_people[1] =
        (ct_review_use){.identity = 10, .sessions = 1, .high = false, .last_day = end - 30};
    id->uses = f->deploy_people;
    id->use_count = 2;

    fixture_identity(f, 5, CT_REVIEW_ROLE, 0,
                     "arn:aws:iam::111111111111:role/aws-service-role/support.amazonaws.com/"
                     "AWSServiceRoleForSupport",
                     "2018-01-01T00:00:00Z", -1, CT_DORMANT_YES);
    f->ids[5].service_linked = true;

    /* dev's users and role */
    fixture_identity(f, 6, CT_REVIEW_USER, 1, "arn:aws:iam::222222222222:user/+cmd",
                     "2022-02-02T00:00:00Z", -1, CT_DORMANT_YES);
    fixture_identity(f, 7, CT_REVIEW_USER, 1, "arn:aws:iam::222222222222:user/-x",
                     "2022-02-03T00:00:00Z", end, CT_DORMANT_NO);
    FIXTURE_LIST(f->ids[7].actions.used, fixture_used_s3);
    f->ids[7].actions.calls = 1;
    fixture_identity(f, 8, CT_REVIEW_ROLE, 1,
                     "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/"
                     "AWSReservedSSO_Admin_0123456789abcdef",
                     "2023-01-01T00:00:00Z", end - 2, CT_DORMANT_NO);
    id = &f->ids[8];
    id->identity_center = true;
    id->admin = CT_ADMIN_ALL_ACTIONS;
    FIXTURE_LIST(id->actions.used, fixture_used_s3);
    FIXTURE_LIST(id->actions.unused, fixture_unused_sso);
    id->actions.calls = 9;
    id->sessions = 1;
    f->sso_people[0] =
        (ct_review_use){.identity = 9, .sessions = 1, .high = true, .last_day = end - 2};
    id->uses = f->sso_people;
    id->use_count = 1;

    /* people */
    f->sso_user = (ct_identity_user){"906700aaaa-1111", "alice", "Alice", "d-1234567890"};
    f->bob_user = (ct_identity_user){"906700bbbb-2222", fixture_names[11], "Bob", "d-1234567890"};
    f->persons[0] =
        (ct_person){.name = "alice", .high = true, .active = true, .user = &f->sso_user};
    f->persons[1] = (ct_person){.name = "=evil", .high = false, .active = true};
    f->persons[2] = (ct_person){.name = (char *)fixture_names[11], .user = &f->bob_user};

    fixture_identity(f, 9, CT_REVIEW_PERSON, 0, "", "", end - 1, CT_DORMANT_NO);
    id = &f->ids[9];
    id->person = &f->persons[0];
    id->identity_center_user = true;
    id->admin = CT_ADMIN_ALL_ACTIONS;
    id->admin_via = f->ids[8].arn;
    id->sessions = 4;
    f->alice_roles[0] =
        (ct_review_use){.identity = 4, .sessions = 3, .high = true, .last_day = end - 1};
    FIXTURE_LIST(f->alice_roles[0].actions.used, fixture_used_deploy);
    FIXTURE_LIST(f->alice_roles[0].actions.unused, fixture_unused_deploy);
    FIXTURE_LIST(f->alice_roles[0].actions.privileged_unused, fixture_priv_deploy);
    f->alice_roles[0].actions.calls = 40;
    f->alice_roles[1] =
        (ct_review_use){.identity = 8, .sessions = 1, .high = true, .last_day = end - 2};
    FIXTURE_LIST(f->alice_roles[1].actions.used, fixture_used_s3);
    FIXTURE_LIST(f->alice_roles[1].actions.unused, fixture_unused_sso);
    f->alice_roles[1].actions.calls = 9;
    f->alice_roles[1].actions.failed_calls = 2;
    id->uses = f->alice_roles;
    id->use_count = 2;

    fixture_identity(f, 10, CT_REVIEW_PERSON, 0, "", "", end - 30, CT_DORMANT_NO);
    id = &f->ids[10];
    id->person = &f->persons[1];
    id->sessions = 1;
    f->evil_roles[0] =
        (ct_review_use){.identity = 4, .sessions = 1, .high = false, .last_day = end - 30};
    FIXTURE_LIST(f->evil_roles[0].actions.unused, fixture_used_deploy);
    FIXTURE_LIST(f->evil_roles[0].actions.attempted, fixture_denied_u0);
    f->evil_roles[0].actions.failed_calls = 1;
    id->uses = f->evil_roles;
    id->use_count = 1;

    /* an Identity Center user who used nothing */
    fixture_identity(f, 11, CT_REVIEW_PERSON, 0, "", "", -1, CT_DORMANT_YES);
    f->ids[11].person = &f->persons[2];
    f->ids[11].identity_center_user = true;

    /* prod's users in its credential report */
    for (size_t i = 0; i < 4; i++) {
        id = &f->ids[i];
        id->credential = ct_credential_report_find_arn(f->credentials, id->arn);
        if (id->credential)
            ct_credential_dormancy_check(&id->credential_check, id->credential, end, 90);
    }

    f->review.window = (ct_window){first, end};
    f->review.dormant_days = 90;
    f->review.accounts = f->accounts;
    f->review.account_count = 2;
    f->review.identities = f->ids;
    f->review.identity_count = FIXTURE_IDENTITIES;

    /* what changed: in the review's order, then the removed ones */
    ct_review_change *c = f->items;
    c[0] = (ct_review_change){.kind = CT_REVIEW_USER,
                              .account_id = "111111111111",
                              .account_name = "prod",
                              .name = fixture_names[0],
                              .identity = 0,
                              .presence = CT_PRESENCE_KEPT};
    FIXTURE_LIST(c[0].grants_added, fixture_added_u0);
    FIXTURE_LIST(c[0].grants_removed, fixture_removed_u0);
    FIXTURE_LIST(c[0].revoked, fixture_revoked_u0);
    FIXTURE_LIST(c[0].still_granted, fixture_still_u0);
    c[1] = (ct_review_change){.kind = CT_REVIEW_USER,
                              .account_id = "111111111111",
                              .account_name = "prod",
                              .name = fixture_names[1],
                              .identity = 1,
                              .presence = CT_PRESENCE_KEPT};
    c[1].newly_dormant = true;
    c[2] = (ct_review_change){.kind = CT_REVIEW_USER,
                              .account_id = "222222222222",
                              .account_name = "dev & <test>",
                              .name = fixture_names[7],
                              .identity = 7,
                              .presence = CT_PRESENCE_KEPT};
    c[2].active_again = true;
    c[3] = (ct_review_change){.kind = CT_REVIEW_ROLE,
                              .account_id = "222222222222",
                              .account_name = "dev & <test>",
                              .name = fixture_names[8],
                              .identity = 8,
                              .presence = CT_PRESENCE_ADDED};
    FIXTURE_LIST(c[3].grants_added, fixture_unused_sso);
    c[4] = (ct_review_change){.kind = CT_REVIEW_PERSON,
                              .account_id = "",
                              .account_name = "",
                              .name = fixture_names[10],
                              .identity = 10,
                              .presence = CT_PRESENCE_ADDED};
    c[5] = (ct_review_change){.kind = CT_REVIEW_USER,
                              .account_id = "111111111111",
                              .account_name = "prod",
                              .name = "=old<user>",
                              .identity = SIZE_MAX,
                              .presence = CT_PRESENCE_REMOVED};
    FIXTURE_LIST(c[5].grants_removed, fixture_used_s3);
    f->changes.previous_made_at = "2024-01-01T09:00:00Z";
    f->changes.previous_window =
        (ct_window){ct_days_from_civil(2023, 10, 1), ct_days_from_civil(2023, 12, 31)};
    f->changes.items = f->items;
    f->changes.count = 6;
    f->changes.added = 2;
    f->changes.removed = 1;
    f->changes.revoked = 1;
    f->changes.still_granted = 1;
    f->changes.newly_dormant = 1;
    f->changes.active_again = 1;

    ct_review_report *rep = &f->report;
    rep->review = &f->review;
    rep->changes = with_changes ? &f->changes : NULL;
    rep->tool_version = "9.9.9-test";
    rep->argv = fixture_argv;
    rep->argc = sizeof(fixture_argv) / sizeof(fixture_argv[0]);
    rep->made_at = ct_days_from_civil(2024, 4, 1) * 86400 + 8 * 3600 + 30 * 60;
    rep->backend = "store";
    rep->warnings = fixture_warnings;
    rep->warning_count = sizeof(fixture_warnings) / sizeof(fixture_warnings[0]);
    rep->incomplete = incomplete;
    return true;
}

static void review_fixture_release(review_fixture *f)
{
    ct_credential_report_free(f->credentials);
    f->credentials = NULL;
}

#endif

/* ct_source_probe: asks one question of the event source a config names
 * and prints the answer as tab-separated lines, so tests can compare the
 * backends' answers (the embedded store's and Elasticsearch's) byte for
 * byte, and the bulk questions with the one-principal ones.
 *
 *   ct_source_probe CONFIG START END QUESTION ARGS...
 *     principal-calls ARN
 *     role-session-calls CALLER_ARN ROLE_ARN
 *     account-calls ACCOUNT_ID
 *     sessions
 *     session-calls KEY...
 *     account-coverage ACCOUNT_ID
 *     principal-resources ARN
 *
 * The store is opened read-only (as with --skip-setup). Lines:
 *   call <owner> <eventSource> <eventName> <eventType> <ok> <errors> <first> <last>
 *   session <key> <role> <session name> <source identity> <onBehalfOf userId>
 *           <identity store> active|inactive <last day of its events, or ->
 *   opened <eventName> <roleArn> <caller> <caller type> <caller key> <caller name>
 *          <provider> <subject> <issuer> <source identity> <session name> <account>
 *          <eventID> <sharedEventID> <time in seconds>
 *   coverage <events of the account in the window>
 *   day <YYYY-MM-DD> <events>       (each day with events, ascending)
 *   region <awsRegion>              (each once, sorted; empty for events without one)
 *   data <eventSource> <eventName> <readOnly: true, false or -> <count> <first> <last>
 *   files <read whole> <read in part> <skipped>     (or "files unknown")
 *   resources <eventSource> <eventName> <eventType> <calls that named resources> sets|more
 *   set <calls> <ARN> <ARN>...      (each set of the call kind above, in order)
 * where <owner> is "-" for a one-principal question, the principal for
 * account-calls and the session's key for a session's calls; an "opened"
 * line follows its session's line when the opening is known;
 * account-coverage prints its lines in the order above. Exit 0, or 1 with
 * the error on stderr (and "left behind\t<n>" on stdout if the backend
 * left n items in its output, which it must not). */
#include "cloudtracker/config.h"
#include "cloudtracker/date.h"
#include "cloudtracker/es.h"
#include "cloudtracker/store.h"
#include "cloudtracker/util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_field(const char *s)
{
    char *safe = ct_safe_dup(s ? s : "");
    fputs(safe ? safe : "?", stdout);
    free(safe);
}

static void print_calls(const char *owner, const ct_calls *calls)
{
    for (size_t i = 0; i < calls->count; i++) {
        const ct_call *c = &calls->items[i];
        char first[11], last[11];
        ct_date_format_day(c->first_day, first);
        ct_date_format_day(c->last_day, last);
        fputs("call\t", stdout);
        print_field(owner);
        putchar('\t');
        print_field(c->event_source);
        putchar('\t');
        print_field(c->event_name);
        printf("\t%s\t%" PRIu64 "\t%" PRIu64 "\t%s\t%s\n", ct_event_kind_name(c->kind), c->count,
               c->error_count, first, last);
    }
}

/* A backend must leave its output empty on error: what it left is printed,
 * so a test that expects no output sees it. */
static void print_leftover(int rc, size_t count)
{
    if (rc && count)
        printf("left behind\t%zu\n", count);
}

/* One line per session: its key, role, active flag, evidence, then its
 * opening (all fields, or "-" when none is known); its calls follow. */
static void print_sessions(const ct_role_sessions *list)
{
    for (size_t i = 0; i < list->count; i++) {
        const ct_role_session *s = &list->items[i];
        const ct_session_evidence *e = &s->evidence;
        const ct_session_opening *o = &s->opening;
        const char *fields[] = {s->access_key,    s->role_arn,        e->session_name,
                                e->source_identity, e->on_behalf_of, e->identity_store};
        fputs("session", stdout);
        for (size_t f = 0; f < sizeof(fields) / sizeof(*fields); f++) {
            putchar('\t');
            print_field(fields[f]);
        }
        printf("\t%s", s->active ? "active" : "inactive");
        if (s->evidence_known) {
            char day[11];
            ct_date_format_day(s->last_evidence_day, day);
            printf("\t%s", day);
        } else {
            fputs("\t-", stdout);
        }
        putchar('\n');
        if (s->opened_known) {
            const char *opening[] = {o->event_name,  o->role_arn,        o->caller,
                                     o->caller_type, o->caller_key,      o->caller_name,
                                     o->provider,    o->subject,         o->issuer,
                                     o->source_identity, o->session_name, o->account,
                                     o->event_id,    o->shared_event_id};
            fputs("opened", stdout);
            for (size_t f = 0; f < sizeof(opening) / sizeof(*opening); f++) {
                putchar('\t');
                print_field(opening[f]);
            }
            printf("\t%" PRId64 "\n", o->at);
        }
        print_calls(s->access_key, &s->calls);
    }
}

static void print_coverage(const ct_account_coverage *c)
{
    printf("coverage\t%" PRIu64 "\n", c->events);
    for (size_t i = 0; i < c->day_count; i++) {
        char day[11];
        ct_date_format_day(c->days[i].day, day);
        printf("day\t%s\t%" PRIu64 "\n", day, c->days[i].events);
    }
    for (size_t i = 0; i < c->region_count; i++) {
        fputs("region\t", stdout);
        print_field(c->regions[i]);
        putchar('\n');
    }
    for (size_t i = 0; i < c->data.count; i++) {
        const ct_data_event *e = &c->data.items[i];
        char first[11], last[11];
        ct_date_format_day(e->first_day, first);
        ct_date_format_day(e->last_day, last);
        fputs("data\t", stdout);
        print_field(e->event_source);
        putchar('\t');
        print_field(e->event_name);
        printf("\t%s\t%" PRIu64 "\t%s\t%s\n",
               e->read_only == 1   ? "true"
               : e->read_only == 0 ? "false"
                                   : "-",
               e->count, first, last);
    }
    if (c->files_known)
        printf("files\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", c->files_read, c->files_partial,
               c->files_skipped);
    else
        puts("files\tunknown");
}

/* A call kind's line, then its sets, each ARN of a set in a column. */
static void print_resources(const ct_resources *list)
{
    for (size_t i = 0; i < list->count; i++) {
        const ct_call_resources *c = &list->items[i];
        fputs("resources\t", stdout);
        print_field(c->event_source);
        putchar('\t');
        print_field(c->event_name);
        printf("\t%s\t%" PRIu64 "\t%s\n", ct_event_kind_name(c->kind), c->named,
               c->more ? "more" : "sets");
        for (size_t j = 0; j < c->set_count; j++) {
            printf("set\t%" PRIu64, c->sets[j].calls);
            char *arns = ct_strdup(c->sets[j].arns);
            for (char *arn = arns, *next; arn; arn = next) {
                next = strchr(arn, '\n');
                if (next)
                    *next++ = '\0';
                putchar('\t');
                print_field(arn);
            }
            free(arns);
            putchar('\n');
        }
    }
}

static int open_source(const ct_config *cfg, ct_source **out, ct_error *err)
{
    if (cfg->has_elasticsearch)
        return ct_es_source(out, &cfg->es, err);
    ct_store *store = NULL;
    int rc = ct_store_open(&store, cfg->store_path, false, err);
    return rc ? rc : ct_store_source(out, store, NULL, err);
}

static int ask(ct_source *src, const ct_window *w, int argc, char **argv, ct_error *err)
{
    const char *q = argv[0];
    int rc;
    if (strcmp(q, "principal-calls") == 0 && argc == 2) {
        ct_calls calls = {0};
        if ((rc = src->principal_calls(src, argv[1], w, &calls, err)) == 0)
            print_calls("-", &calls);
        print_leftover(rc, calls.count);
        ct_calls_release(&calls);
    } else if (strcmp(q, "role-session-calls") == 0 && argc == 3) {
        ct_calls calls = {0};
        if ((rc = src->role_session_calls(src, argv[1], argv[2], w, &calls, err)) == 0)
            print_calls("-", &calls);
        print_leftover(rc, calls.count);
        ct_calls_release(&calls);
    } else if (strcmp(q, "account-calls") == 0 && argc == 2) {
        ct_account_calls list = {0};
        if ((rc = src->account_calls(src, argv[1], w, &list, err)) == 0)
            for (size_t i = 0; i < list.count; i++)
                print_calls(list.items[i].principal_arn, &list.items[i].calls);
        print_leftover(rc, list.count);
        ct_account_calls_release(&list);
    } else if (strcmp(q, "sessions") == 0 && argc == 1) {
        ct_role_sessions list = {0};
        rc = src->sessions(src, w, &list, err);
        if (rc == 0)
            print_sessions(&list);
        print_leftover(rc, list.count);
        ct_role_sessions_release(&list);
    } else if (strcmp(q, "session-calls") == 0 && argc >= 2) {
        ct_role_sessions list = {0};
        rc = src->session_calls(src, (const char *const *)argv + 1, (size_t)argc - 1, w, &list,
                                err);
        if (rc == 0)
            print_sessions(&list);
        print_leftover(rc, list.count);
        ct_role_sessions_release(&list);
    } else if (strcmp(q, "account-coverage") == 0 && argc == 2) {
        ct_account_coverage c;
        memset(&c, 0, sizeof(c));
        if ((rc = src->account_coverage(src, argv[1], w, &c, err)) == 0)
            print_coverage(&c);
        print_leftover(rc, c.day_count + c.region_count + c.data.count +
                               (c.events || c.files_known || c.days || c.regions || c.data.items));
        ct_account_coverage_release(&c);
    } else if (strcmp(q, "principal-resources") == 0 && argc == 2) {
        ct_resources list = {0};
        if ((rc = src->principal_resources(src, argv[1], w, &list, err)) == 0)
            print_resources(&list);
        print_leftover(rc, list.count);
        ct_resources_release(&list);
    } else {
        rc = ct_error_set(err, CT_EUSAGE, "unknown question or wrong number of arguments");
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fputs("usage: ct_source_probe CONFIG START END QUESTION ARGS...\n", stderr);
        return 1;
    }
    ct_error err;
    ct_error_clear(&err);
    ct_config *cfg = NULL;
    ct_source *src = NULL;
    ct_window w;
    int rc = 0;
    if (ct_date_parse_day(argv[2], &w.first_day) || ct_date_parse_day(argv[3], &w.last_day))
        rc = ct_error_set(&err, CT_EUSAGE, "dates are YYYY-MM-DD");
    if (rc == 0)
        rc = ct_config_load(&cfg, argv[1], &err);
    if (rc == 0)
        rc = open_source(cfg, &src, &err);
    if (rc == 0)
        rc = ask(src, &w, argc - 4, argv + 4, &err);
    if (rc) {
        char line[2048];
        ct_error_format(&err, line, sizeof(line));
        fprintf(stderr, "ct_source_probe: %s\n", line);
    }
    ct_source_free(src);
    ct_config_free(cfg);
    return rc ? 1 : 0;
}

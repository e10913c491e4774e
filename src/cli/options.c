/* Command-line parsing: one sorted table of options, each with its help
 * text, so --help and the parser cannot disagree. */
#include "cli.h"

#include "cloudtracker/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum kind { FLAG, VALUE, MULTI } kind;

typedef struct option {
    const char *name;
    kind kind;
    const char *arg; /* placeholder shown in --help */
    const char *help;
} option;

/* Sorted by name. */
static const option options[] = {
    {"account", MULTI, "NAME|ID",
     "account to analyse (name or 12-digit id from the config); review takes several"},
    {"compare", VALUE, "FILE", "review: what changed since this earlier review (its json)"},
    {"compact", FLAG, NULL, "--format policy: wildcards where they grant nothing more"},
    {"config", VALUE, "FILE", "config file (default: config.yaml)"},
    {"destaccount", VALUE, "NAME|ID", "with --destrole: the role lives in this account"},
    {"destrole", VALUE, "NAME", "what --user/--role did inside sessions of this role"},
    {"dormant-days", VALUE, "N", "review: dormant after N days without activity (default 90)"},
    {"drop-unknown", FLAG, NULL,
     "--format policy: without the actions CloudTrail cannot show (\"?\")"},
    {"end", VALUE, "YYYY-MM-DD",
     "last day of the window, inclusive (default: window.end, else today)"},
    {"format", VALUE, "FORMAT", "text (default), json, policy; review: text, json, csv, html"},
    {"help", FLAG, NULL, "show this help"},
    {"iam", VALUE, "FILE", "authorization details of --account (overrides the config)"},
    {"ignore-benign", FLAG, NULL, "hide List*/Describe* actions and List-level actions"},
    {"ignore-unknown", FLAG, NULL, "hide actions CloudTrail cannot show (\"?\")"},
    {"inline", FLAG, NULL, "--format policy: one inline policy (role 10,240, user 2,048 chars)"},
    {"list", VALUE, "users|roles|people",
     "list users, roles or people; \"- \" marks those with no activity"},
    {"logs", MULTI, "DIR", "CloudTrail folder (repeatable; overrides files.paths)"},
    {"no-color", FLAG, NULL, "no colors (also: NO_COLOR set, or output not a terminal)"},
    {"output", VALUE, "FILE", "review: write here (whole or not at all), not to stdout"},
    {"person", VALUE, "NAME", "analyse this person in every role they used (people behind roles)"},
    {"rejects", VALUE, "FILE", "ingest --to elasticsearch: where rejected records go (NDJSON)"},
    {"resources", FLAG, NULL, "--format policy, --user/--role: only the resources calls named"},
    {"role", VALUE, "NAME", "analyse this role (all of its sessions)"},
    {"show-unused", FLAG, NULL, "only granted actions that were not used (\"-\", \"?\")"},
    {"show-used", FLAG, NULL, "only actions that were used (\"  \", \"+\")"},
    {"skip-setup", FLAG, NULL, "use the store as it is: read no new logs, write nothing"},
    {"start", VALUE, "YYYY-MM-DD",
     "first day, inclusive (default: window.start, else end - window.days + 1)"},
    {"store", VALUE, "FILE", "embedded store (overrides files.store)"},
    {"to", VALUE, "store|elasticsearch",
     "ingest into the embedded store (default) or the config's elasticsearch:"},
    {"user", VALUE, "NAME", "analyse this IAM user"},
    {"version", FLAG, NULL, "print the version"},
};

static const option *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        if (strlen(options[i].name) == len && strncmp(options[i].name, name, len) == 0)
            return &options[i];
    return NULL;
}

static int push(const char ***list, size_t *count, const char *value)
{
    const char **p = realloc(*list, (*count + 1) * sizeof(*p));
    if (!p)
        return CT_ENOMEM;
    p[(*count)++] = value;
    *list = p;
    return 0;
}

static int set_value(cli_options *o, const option *opt, const char *value, ct_error *err)
{
    const char *n = opt->name;
    const char **slot = NULL;
    if (!strcmp(n, "account")) {
        if (!value[0])
            return ct_error_set(err, CT_EUSAGE, "--account needs a non-empty value");
        if (push(&o->accounts, &o->account_count, value))
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        o->account = o->accounts[0];
        return 0;
    } else if (!strcmp(n, "compare"))
        slot = &o->compare;
    else if (!strcmp(n, "dormant-days"))
        slot = &o->dormant_days;
    else if (!strcmp(n, "output"))
        slot = &o->output;
    else if (!strcmp(n, "config")) {
        if (o->config_given)
            return ct_error_set(err, CT_EUSAGE, "--config given twice");
        if (!value[0])
            return ct_error_set(err, CT_EUSAGE, "--config needs a non-empty value");
        o->config_given = true;
        o->config_path = value;
        return 0;
    } else if (!strcmp(n, "destaccount"))
        slot = &o->destaccount;
    else if (!strcmp(n, "destrole"))
        slot = &o->destrole;
    else if (!strcmp(n, "end"))
        slot = &o->end;
    else if (!strcmp(n, "iam"))
        slot = &o->iam;
    else if (!strcmp(n, "list"))
        slot = &o->list;
    else if (!strcmp(n, "rejects"))
        slot = &o->rejects;
    else if (!strcmp(n, "person"))
        slot = &o->person;
    else if (!strcmp(n, "role"))
        slot = &o->role;
    else if (!strcmp(n, "start"))
        slot = &o->start;
    else if (!strcmp(n, "store"))
        slot = &o->store;
    else if (!strcmp(n, "to")) {
        if (o->to)
            return ct_error_set(err, CT_EUSAGE, "--to given twice");
        if (strcmp(value, "store") != 0 && strcmp(value, "elasticsearch") != 0)
            return ct_error_set(err, CT_EUSAGE, "--to takes store or elasticsearch");
        o->to = value;
        return 0;
    }
    else if (!strcmp(n, "user"))
        slot = &o->user;
    else if (!strcmp(n, "logs"))
        return push(&o->logs, &o->log_count, value) ? ct_error_set(err, CT_ENOMEM, "out of memory")
                                                    : 0;
    else if (!strcmp(n, "format")) {
        if (!strcmp(value, "text"))
            o->format = CT_FORMAT_TEXT;
        else if (!strcmp(value, "json"))
            o->format = CT_FORMAT_JSON;
        else if (!strcmp(value, "csv"))
            o->format = CT_FORMAT_CSV;
        else if (!strcmp(value, "html"))
            o->format = CT_FORMAT_HTML;
        else if (!strcmp(value, "policy"))
            o->format = CT_FORMAT_POLICY;
        else
            return ct_error_set(err, CT_EUSAGE, "--format takes text, json, policy, csv or html");
        o->format_given = true;
        return 0;
    }
    if (!slot)
        return ct_error_set(err, CT_EINTERNAL, "option --%s has no setter", n);
    if (*slot)
        return ct_error_set(err, CT_EUSAGE, "--%s given twice", n);
    if (!value[0])
        return ct_error_set(err, CT_EUSAGE, "--%s needs a non-empty value", n);
    *slot = value;
    return 0;
}

static void set_flag(cli_options *o, const char *n)
{
    if (!strcmp(n, "help"))
        o->help = true;
    else if (!strcmp(n, "version"))
        o->version = true;
    else if (!strcmp(n, "ignore-benign"))
        o->ignore_benign = true;
    else if (!strcmp(n, "ignore-unknown"))
        o->ignore_unknown = true;
    else if (!strcmp(n, "no-color"))
        o->no_color = true;
    else if (!strcmp(n, "show-unused"))
        o->show_unused = true;
    else if (!strcmp(n, "show-used"))
        o->show_used = true;
    else if (!strcmp(n, "skip-setup"))
        o->skip_setup = true;
    else if (!strcmp(n, "compact"))
        o->compact = true;
    else if (!strcmp(n, "drop-unknown"))
        o->drop_unknown = true;
    else if (!strcmp(n, "resources"))
        o->resources = true;
    else if (!strcmp(n, "inline"))
        o->inline_policy = true;
}

int cli_parse(cli_options *o, int argc, char **argv, ct_error *err)
{
    memset(o, 0, sizeof(*o));
    o->config_path = "config.yaml";
    int i = 1;
    o->argv = (const char *const *)argv;
    o->argc = argc > 0 ? (size_t)argc : 0;
    if (argc > 1 && strcmp(argv[1], "ingest") == 0) {
        o->ingest = true;
        i = 2;
    } else if (argc > 1 && strcmp(argv[1], "review") == 0) {
        o->review = true;
        i = 2;
    }
    bool only_paths = false;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (only_paths || a[0] != '-' || a[1] == '\0') {
            if (!o->ingest) {
                ct_error_set(err, CT_EUSAGE, "unexpected argument '%s' (see --help)", a);
                return CT_EUSAGE;
            }
            if (push(&o->paths, &o->path_count, a))
                return ct_error_set(err, CT_ENOMEM, "out of memory");
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_paths = true;
            continue;
        }
        if (a[1] != '-') {
            ct_error_set(err, CT_EUSAGE, "unknown option '%s' (options are long: see --help)", a);
            return CT_EUSAGE;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const option *opt = find_option(name, len);
        if (!opt) {
            ct_error_set(err, CT_EUSAGE, "unknown option '%s' (see --help)", a);
            return CT_EUSAGE;
        }
        if (opt->kind == FLAG) {
            if (eq)
                return ct_error_set(err, CT_EUSAGE, "--%s takes no value", opt->name);
            set_flag(o, opt->name);
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc)
                return ct_error_set(err, CT_EUSAGE, "--%s needs a value (%s)", opt->name, opt->arg);
            value = argv[++i];
        }
        int rc = set_value(o, opt, value, err);
        if (rc)
            return rc;
    }
    return 0;
}

void cli_options_release(cli_options *o)
{
    free(o->logs);
    free(o->paths);
    free(o->accounts);
    memset(o, 0, sizeof(*o));
}

void cli_print_help(void)
{
    printf(
        "Usage:\n"
        "  cloudtracker --account NAME|ID (--list users|roles | --user NAME | --role NAME)\n"
        "               [--destrole NAME] [--destaccount NAME|ID] [--show-used | --show-unused]\n"
        "               [--ignore-benign] [--ignore-unknown] [--no-color]\n"
        "               [--start YYYY-MM-DD] [--end YYYY-MM-DD] [--config FILE] [--iam FILE]\n"
        "               [--logs DIR]... [--store FILE] [--skip-setup] [--format text|json|policy]\n"
        "               [--compact] [--drop-unknown] [--resources] [--inline]\n"
        "  cloudtracker [--account NAME|ID] (--list people | --person NAME [--destrole NAME]\n"
        "               [--destaccount NAME|ID]) [options as above]\n"
        "  cloudtracker review [--config FILE] [--account NAME|ID]... [--start YYYY-MM-DD]\n"
        "               [--end YYYY-MM-DD] [--format text|json|csv|html] [--output FILE]\n"
        "               [--compare PREVIOUS.json] [--dormant-days N] [--skip-setup]\n"
        "  cloudtracker ingest [--config FILE] [--account NAME|ID] [--store FILE] [PATH...]\n"
        "  cloudtracker ingest --to elasticsearch [--config FILE] [--account NAME|ID]\n"
        "               [--rejects FILE] [PATH...]\n"
        "\n"
        "Compares what an IAM user or role was granted with what CloudTrail shows it used.\n"
        "--list people and --person name the people behind role sessions (Identity Center,\n"
        "SAML, web identity, source identity, role chains; README: People behind roles).\n"
        "`review` is the access review of every user, role and person of the accounts\n"
        "(README: Quarterly access reviews; docs/review.md).\n"
        "Each action line starts with:\n"
        "  \"  \" used    \"- \" granted, not used    \"? \" granted, CloudTrail cannot show it\n"
        "  \"+ \" used, not granted\n"
        "\"?\" is for calls CloudTrail never logs, permissions checked inside other calls,\n"
        "and data events the account's logs hold none of (--format json says why).\n"
        "Queries first read new CloudTrail files from files.paths (or --logs) into the\n"
        "store; `ingest` does only that (PATHs default to files.paths). With --to\n"
        "elasticsearch it loads them into the cluster of the config's elasticsearch:\n"
        "section instead (README: Loading into Elasticsearch).\n"
        "\n"
        "Options:\n");
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        char left[64];
        if (options[i].arg)
            snprintf(left, sizeof(left), "--%s %s", options[i].name, options[i].arg);
        else
            snprintf(left, sizeof(left), "--%s", options[i].name);
        printf("  %-26s %s\n", left, options[i].help);
    }
    printf("\n"
           "Exit codes:\n"
           "  0  success\n"
           "  1  internal error or out of memory\n"
           "  2  bad command line\n"
           "  3  config file missing, malformed, not a regular file or over a limit\n"
           "  4  IAM authorization-details file (or an identity_store: or credential_report:\n"
           "     file) missing, malformed, not a regular file or over a limit\n"
           "  5  unknown account, user, role or person (candidates on stderr)\n"
           "  6  the store cannot be opened, read or written\n"
           "  7  a backend server cannot be reached\n"
           "  8  a backend returned partial, failed or oversized results (nothing printed)\n"
           "  9  log paths missing or unreadable (nothing printed)\n"
           "  10 writing the output failed\n"
           "  11 done, but some log files or records were skipped or rejected, or an ingest\n"
           "     is writing the store being read (see stderr)\n"
           "  12 review --compare: the previous review is unreadable, not a review, or of\n"
           "     another format_version\n"
           "  An ingest stopped by SIGINT or SIGTERM first restores what it changed, then\n"
           "  ends by that signal.\n"
           "\n"
           "Limits on inputs (config 16 MiB, IAM file 1 GiB, Elasticsearch answers\n"
           "elasticsearch.max_response_bytes, ...): README, Bad input.\n"
           "\n"
           "Environment: NO_COLOR disables colors; HOME is what a leading ~ means in config\n"
           "paths.\n");
}

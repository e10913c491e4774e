/* Internal interface of the command-line front end: parsed options, the
 * two commands, and the mapping from status codes to exit codes. */
#ifndef CT_CLI_H
#define CT_CLI_H

#include "cloudtracker/config.h"
#include "cloudtracker/error.h"
#include "cloudtracker/report.h"

#include <stdbool.h>
#include <stddef.h>

/* Exit codes: one per class of failure (listed in --help and README). */
enum cli_exit {
    EXIT_OK = 0,
    EXIT_INTERNAL = 1,    /* a bug or out of memory */
    EXIT_USAGE = 2,       /* bad command line */
    EXIT_CONFIG = 3,      /* config file missing or malformed */
    EXIT_IAM = 4,         /* IAM file missing or malformed */
    EXIT_NOT_FOUND = 5,   /* unknown account, user or role */
    EXIT_STORE = 6,       /* the store cannot be opened, read or written */
    EXIT_UNREACHABLE = 7, /* a backend server cannot be reached */
    EXIT_PARTIAL = 8,     /* a backend returned partial results: nothing printed */
    EXIT_LOGS = 9,        /* log paths missing or unreadable: nothing printed */
    EXIT_OUTPUT = 10,     /* writing the output failed */
    EXIT_INCOMPLETE = 11, /* done, but some log files or records were skipped */
    EXIT_COMPARE = 12     /* review --compare: the previous review is unreadable or malformed */
};

typedef struct cli_options {
    bool help, version;
    bool ingest; /* the `ingest` command */
    bool review; /* the `review` command */
    const char *const *argv; /* the command line, for the review's evidence */
    size_t argc;
    const char *config_path;
    bool config_given;
    const char *account;   /* the first --account */
    const char **accounts; /* every --account (review takes several) */
    size_t account_count;
    const char *output;       /* review --output */
    const char *compare;      /* review --compare */
    const char *dormant_days; /* review --dormant-days, as given */
    const char *list; /* "users", "roles" or "people" */
    const char *user;
    const char *role;
    const char *person;
    const char *destrole;
    const char *destaccount;
    bool show_used, show_unused, ignore_benign, ignore_unknown, no_color, skip_setup;
    bool compact, drop_unknown, resources, inline_policy; /* --format policy */
    const char *start, *end;
    const char *iam;
    const char *store;
    const char *to;      /* ingest --to: "store" or "elasticsearch" (NULL: store) */
    const char *rejects; /* ingest --to elasticsearch --rejects */
    const char **logs; /* --logs, repeatable */
    size_t log_count;
    const char **paths; /* ingest's positional paths */
    size_t path_count;
    ct_format format;
    bool format_given;
} cli_options;

/* Parses argv into opts (which the caller frees with cli_options_release).
 * Returns 0 or CT_EUSAGE with err set. */
int cli_parse(cli_options *opts, int argc, char **argv, ct_error *err);
void cli_options_release(cli_options *opts);
void cli_print_help(void);

int cli_exit_code(int status);
/* Prints "cloudtracker: <error>" on stderr. */
void cli_report_error(const ct_error *err);
/* Prints "cloudtracker: <text>" on stderr (text made terminal-safe): news
 * the user should see, no warning. */
void cli_notice(const char *text);
/* Tells, once, that the store at `path` is being rebuilt (a store made by an
 * older cloudtracker, schema version `version`). */
void cli_notice_rebuild(const char *path, int version);
/* Prints "cloudtracker: warning: <text>" on stderr (text made terminal-safe). */
void cli_warn(const char *text);
/* Warns when the elasticsearch: section sends credentials unencrypted to
 * another machine (an http:// URL whose host is not loopback). */
void cli_warn_cleartext(const ct_es_config *es);

#include "cloudtracker/analysis.h"
#include "cloudtracker/iam.h"

/* What a query or review reads: the options, the config, the accounts'
 * IAM data, the catalog and the event source, and the analysis context. */
typedef struct cli_query {
    const cli_options *opts;
    ct_error err;
    ct_config *cfg;
    const ct_account *account;
    const ct_account *dest_account;
    ct_iam *iam;
    ct_iam *dest_iam; /* NULL when the destination is --account itself */
    ct_catalog *catalog;
    ct_source *source;
    ct_analysis analysis;
    size_t notes_shown; /* notes of the analysis already printed on stderr */
    /* --list people and --person: every account of the config with its IAM
     * data (when --person needs it), and the Identity Center user lists. */
    ct_account_view *views;
    ct_iam **iams;
    ct_identity_store **user_lists;
    size_t user_list_count;
} cli_query;

/* Shared by the query and review commands (query.c). */
/* Prints the notes the analysis added since the last call as warnings. */
void cli_show_notes(cli_query *q);
/* The window: flags first, then the config's window section, then the last
 * window.days (365) days ending today. */
int cli_compute_window(cli_query *q);
/* The account of the config with this name or id; CT_ENOTFOUND listing them. */
int cli_find_account(cli_query *q, const char *name, const ct_account **out);
/* Opens the config's backend (Elasticsearch, else the store brought up to
 * date from the log paths unless --skip-setup) into q->source. */
int cli_open_source(cli_query *q);
/* Loads the catalog, opens the source and makes it ready (prepare), with
 * its notes shown: what every question needs before it is asked. */
int cli_prepare_analysis(cli_query *q);
/* A report's status: a failed write is the output error. */
int cli_output_status(cli_query *q, int rc);
/* Every account of the config as the analyses see it (q->views); with
 * `with_iam`, each with its IAM data; and the Identity Center user lists of
 * the accounts in scope (q->account's, or all). */
int cli_load_people_inputs(cli_query *q, bool with_iam);
/* Frees what the query holds (not the options). */
void cli_query_release(cli_query *q);

int cli_run_query(const cli_options *opts);
int cli_run_review(const cli_options *opts);
int cli_run_ingest(const cli_options *opts);

#endif

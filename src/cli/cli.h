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
    const char *config_path;
    bool config_given;
    const char *account;
    const char *list; /* "users", "roles" or "people" */
    const char *user;
    const char *role;
    const char *person;
    const char *destrole;
    const char *destaccount;
    bool show_used, show_unused, ignore_benign, ignore_unknown, no_color, skip_setup;
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

int cli_run_query(const cli_options *opts);
int cli_run_ingest(const cli_options *opts);

#endif

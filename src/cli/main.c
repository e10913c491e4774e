/* Entry point: parses the command line, runs a command, maps its status to
 * an exit code. The only code that calls exit() or prints usage. */
#include "cli.h"

#include "cloudtracker/es.h"
#include "cloudtracker/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_exit_code(int status)
{
    switch (status) {
    case CT_OK:
        return EXIT_OK;
    case CT_EUSAGE:
        return EXIT_USAGE;
    case CT_ECONFIG:
        return EXIT_CONFIG;
    case CT_EIAM:
        return EXIT_IAM;
    case CT_ENOTFOUND:
        return EXIT_NOT_FOUND;
    case CT_ESTORE:
        return EXIT_STORE;
    case CT_EUNREACHABLE:
        return EXIT_UNREACHABLE;
    case CT_EPARTIAL:
        return EXIT_PARTIAL;
    case CT_EINPUT:
        return EXIT_LOGS;
    case CT_EIO:
        return EXIT_OUTPUT;
    case CT_ECOMPARE:
        return EXIT_COMPARE;
    default:
        return EXIT_INTERNAL;
    }
}

void cli_report_error(const ct_error *err)
{
    char line[2048];
    ct_error_format(err, line, sizeof(line));
    char *safe = ct_safe_dup(line);
    fprintf(stderr, "cloudtracker: %s\n", safe ? safe : "out of memory");
    free(safe);
}

void cli_notice(const char *text)
{
    char *safe = ct_safe_dup(text);
    fprintf(stderr, "cloudtracker: %s\n", safe ? safe : "out of memory");
    free(safe);
}

void cli_notice_rebuild(const char *path, int version)
{
    char text[1200];
    snprintf(text, sizeof(text),
             "store %.1000s was made by an older cloudtracker (schema version %d); rebuilding it "
             "from the trail files",
             path, version);
    cli_notice(text);
}

void cli_warn(const char *text)
{
    char *safe = ct_safe_dup(text);
    fprintf(stderr, "cloudtracker: warning: %s\n", safe ? safe : "out of memory");
    free(safe);
}

void cli_warn_cleartext(const ct_es_config *es)
{
    const char *url = ct_es_cleartext_url(es);
    if (!url)
        return;
    char text[1200];
    snprintf(text, sizeof(text),
             "elasticsearch credentials are sent unencrypted to %.1000s: use https:// "
             "(plain http:// is only safe to this machine)",
             url);
    cli_warn(text);
}

int main(int argc, char **argv)
{
    cli_options opts;
    ct_error err;
    ct_error_clear(&err);
    int rc = cli_parse(&opts, argc, argv, &err);
    int code;
    if (rc) {
        cli_report_error(&err);
        code = cli_exit_code(rc);
    } else if (opts.help) {
        cli_print_help();
        code = EXIT_OK;
    } else if (opts.version) {
        printf("cloudtracker %s\n", CT_VERSION);
        code = EXIT_OK;
    } else if (opts.ingest) {
        code = cli_run_ingest(&opts);
    } else if (opts.review) {
        code = cli_run_review(&opts);
    } else {
        code = cli_run_query(&opts);
    }
    cli_options_release(&opts);
    /* Output that could not be written (a full disk, a closed pipe) must not
     * look like success. */
    if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
        if (code == EXIT_OK || code == EXIT_INCOMPLETE) {
            fprintf(stderr, "cloudtracker: writing the output failed: %s\n", strerror(errno));
            code = EXIT_OUTPUT;
        }
    }
    return code;
}

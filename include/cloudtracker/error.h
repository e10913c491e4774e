/* Error reporting shared by every module: a status code plus one message,
 * with the file, line and column where a parser knows them. */
#ifndef CLOUDTRACKER_ERROR_H
#define CLOUDTRACKER_ERROR_H

#include <stddef.h>

/* Status codes. Functions return 0 (CT_OK) or one of these negative values;
 * the CLI maps each class to a distinct exit code (see src/cli/exitcode.c). */
enum ct_status {
    CT_OK = 0,
    CT_ENOMEM = -1,       /* out of memory */
    CT_EUSAGE = -2,       /* bad command line or argument value */
    CT_ECONFIG = -3,      /* config file missing or malformed */
    CT_EIAM = -4,         /* IAM authorization details missing or malformed */
    CT_ENOTFOUND = -5,    /* unknown account, user or role */
    CT_ESTORE = -6,       /* embedded store cannot be opened, read or written */
    CT_EUNREACHABLE = -7, /* a backend server cannot be reached */
    CT_EPARTIAL = -8,     /* a backend returned partial or failed results */
    CT_EINPUT = -9,       /* log input unreadable or malformed */
    CT_EIO = -10,         /* other I/O failure (read, write, disk full) */
    CT_EINTERNAL = -11,   /* a bug: an invariant did not hold */
    CT_EINTERRUPTED = -12, /* stopped by a signal (SIGINT, SIGTERM) after cleaning up */
    CT_ECOMPARE = -13      /* the previous review (--compare) unreadable, malformed or of
                            * another format version */
};

/* Details of the last error. `file` is empty when no file is involved;
 * `line` and `col` are 1-based, 0 when unknown. */
typedef struct ct_error {
    int code;
    int line;
    int col;
    char file[512];
    char message[1024];
} ct_error;

/* Resets `err` to "no error". `err` may be NULL. */
void ct_error_clear(ct_error *err);

/* Records `code` and a printf-style message in `err` (which may be NULL) and
 * returns `code`, so callers can write `return ct_error_set(err, ...)`. */
int ct_error_set(ct_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like ct_error_set, also naming the file and position the error is about. */
int ct_error_set_at(ct_error *err, int code, const char *file, int line, int col, const char *fmt,
                    ...) __attribute__((format(printf, 6, 7)));

/* Prefixes the existing message with a printf-style context ("loading X: ")
 * and returns err->code. */
int ct_error_wrap(ct_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "file:line:col: message" (omitting unknown parts) into buf. */
void ct_error_format(const ct_error *err, char *buf, size_t size);

/* Short lowercase name of a status code ("out of memory", ...). */
const char *ct_status_name(int code);

/* 1-based line and column of byte `offset` in `text` (len bytes). */
void ct_text_position(const char *text, size_t len, size_t offset, int *line, int *col);

#endif

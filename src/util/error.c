/* Error struct helpers: set, wrap and format messages. */
#include "cloudtracker/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ct_error_clear(ct_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof(*err));
}

static void set_va(ct_error *err, int code, const char *file, int line, int col, const char *fmt,
                   va_list ap)
{
    err->code = code;
    err->line = line;
    err->col = col;
    err->file[0] = '\0';
    if (file)
        snprintf(err->file, sizeof(err->file), "%s", file);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

int ct_error_set(ct_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    set_va(err, code, NULL, 0, 0, fmt, ap);
    va_end(ap);
    return code;
}

int ct_error_set_at(ct_error *err, int code, const char *file, int line, int col, const char *fmt,
                    ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    set_va(err, code, file, line, col, fmt, ap);
    va_end(ap);
    return code;
}

int ct_error_wrap(ct_error *err, const char *fmt, ...)
{
    if (!err)
        return CT_EINTERNAL;
    char prefix[512];
    char old[sizeof(err->message)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof(old));
    /* Truncation is fine here: the prefix wins, the tail of the old message goes. */
    size_t plen = strnlen(prefix, sizeof(err->message) - 1);
    size_t olen = strnlen(old, sizeof(old) - 1);
    if (olen > sizeof(err->message) - 1 - plen)
        olen = sizeof(err->message) - 1 - plen;
    memcpy(err->message, prefix, plen);
    memcpy(err->message + plen, old, olen);
    err->message[plen + olen] = '\0';
    return err->code;
}

void ct_error_format(const ct_error *err, char *buf, size_t size)
{
    if (!err->file[0])
        snprintf(buf, size, "%s", err->message);
    else if (err->line > 0 && err->col > 0)
        snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line, err->col, err->message);
    else if (err->line > 0)
        snprintf(buf, size, "%s:%d: %s", err->file, err->line, err->message);
    else
        snprintf(buf, size, "%s: %s", err->file, err->message);
}

const char *ct_status_name(int code)
{
    switch (code) {
    case CT_OK:
        return "ok";
    case CT_ENOMEM:
        return "out of memory";
    case CT_EUSAGE:
        return "usage error";
    case CT_ECONFIG:
        return "config error";
    case CT_EIAM:
        return "IAM data error";
    case CT_ENOTFOUND:
        return "not found";
    case CT_ESTORE:
        return "store error";
    case CT_EUNREACHABLE:
        return "backend unreachable";
    case CT_EPARTIAL:
        return "partial results";
    case CT_EINPUT:
        return "log input error";
    case CT_EIO:
        return "I/O error";
    case CT_EINTERRUPTED:
        return "interrupted";
    default:
        return "internal error";
    }
}

void ct_text_position(const char *text, size_t len, size_t offset, int *line, int *col)
{
    int l = 1, c = 1;
    if (offset > len)
        offset = len;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            c++; /* count characters, not UTF-8 continuation bytes */
        }
    }
    *line = l;
    *col = c;
}

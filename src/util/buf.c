/* ct_buf: a growable, NUL-terminated byte buffer. */
#include "cloudtracker/error.h"
#include "cloudtracker/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ct_buf_reserve(ct_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return CT_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return CT_ENOMEM;
    /* Whatever was asked, the bytes held are a C string from here on. */
    p[b->len] = '\0';
    b->data = p;
    b->cap = cap;
    return 0;
}

int ct_buf_append(ct_buf *b, const void *data, size_t len)
{
    if (ct_buf_reserve(b, len) != 0)
        return CT_ENOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int ct_buf_puts(ct_buf *b, const char *s)
{
    return ct_buf_append(b, s, strlen(s));
}

int ct_buf_printf(ct_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return CT_EINTERNAL;
    if (ct_buf_reserve(b, (size_t)n) != 0)
        return CT_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void ct_buf_reset(ct_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void ct_buf_release(ct_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *ct_buf_detach(ct_buf *b)
{
    if (!b->data && ct_buf_reserve(b, 0) != 0)
        return NULL;
    b->data[b->len] = '\0';
    char *p = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void *ct_array_grow(void *items, size_t *cap, size_t count, size_t size, size_t initial)
{
    if (count < *cap)
        return items;
    size_t n = *cap ? *cap * 2 : (initial ? initial : 1);
    if (n <= *cap || n > SIZE_MAX / size)
        return NULL;
    void *grown = realloc(items, n * size);
    if (grown)
        *cap = n;
    return grown;
}

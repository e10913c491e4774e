/* A file's rows blob: what one trail file added to the roll-ups (its calls,
 * its events per account, day and Region, data events also per action,
 * and the resources its successful calls named), stored with the file so
 * that a changed file's old contributions can be taken out again. One
 * compact blob per file costs the writer one row where a table of aggregates cost about a
 * hundred. */
#include "store/store_internal.h"

/* Layout: a varint row count, then every call row as CT_FILE_CALL_COLS
 * values; the same for the account rows (CT_FILE_ACCOUNT_COLS values) and
 * the resource rows (CT_FILE_RESOURCE_COLS). Each value is stored as its difference from
 * the same column of the row before (0 before the first row), zigzag-mapped
 * so small negative steps stay small, as an unsigned LEB128 varint. Rows
 * come sorted, so most differences fit in one byte. */

#define VARINT_MAX 10

static unsigned char *put_varint(unsigned char *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

/* Reads a varint at *p (before end); false when cut off or longer than 64
 * bits. */
static bool get_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char c = *(*p)++;
        if (shift == 63 && c > 1)
            return false;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Differences are taken in uint64_t arithmetic (which wraps, so any two
 * int64_t values round-trip) and zigzag-mapped. */
static uint64_t zigzag(uint64_t d)
{
    return (d << 1) ^ (0 - (d >> 63));
}

static uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

static unsigned char *put_rows(unsigned char *p, const int64_t *vals, size_t rows, int cols)
{
    uint64_t prev[CT_FILE_CALL_COLS] = {0};
    p = put_varint(p, rows);
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            uint64_t v = (uint64_t)vals[r * (size_t)cols + (size_t)c];
            p = put_varint(p, zigzag(v - prev[c]));
            prev[c] = v;
        }
    return p;
}

int ct_file_rows_encode(ct_buf *out, const ct_file_rows *rows)
{
    size_t values = rows->ncalls * CT_FILE_CALL_COLS + rows->naccounts * CT_FILE_ACCOUNT_COLS +
                    rows->nresources * CT_FILE_RESOURCE_COLS + 3;
    ct_buf_reset(out);
    if (ct_buf_reserve(out, values * VARINT_MAX) != 0)
        return CT_ENOMEM;
    unsigned char *start = (unsigned char *)out->data;
    unsigned char *p = put_rows(start, rows->calls, rows->ncalls, CT_FILE_CALL_COLS);
    p = put_rows(p, rows->accounts, rows->naccounts, CT_FILE_ACCOUNT_COLS);
    p = put_rows(p, rows->resources, rows->nresources, CT_FILE_RESOURCE_COLS);
    out->len = (size_t)(p - start);
    return 0;
}

enum section { SECTION_CALLS, SECTION_ACCOUNTS, SECTION_RESOURCES };

/* Checks a decoded row: ids are positive, counts are not negative, the
 * session flag is 0 or 1, a data access is a CT_DATA_* value with an
 * action. A damaged blob must not make the roll-ups go negative or name
 * rows that cannot exist. */
static bool row_valid(const int64_t *v, enum section section)
{
    if (section == SECTION_CALLS)
        return v[0] > 0 && v[1] > 0 && v[2] > 0 && (v[4] == 0 || v[4] == 1) && v[5] >= 0 &&
               v[6] >= 0 && (v[5] > 0 || v[6] > 0);
    if (section == SECTION_RESOURCES)
        return v[0] > 0 && v[2] > 0 && v[3] > 0 && v[4] > 0;
    bool data = v[3] != 0;
    return v[0] > 0 && v[4] > 0 && v[5] > 0 &&
           (data ? v[2] > 0 && v[3] >= CT_DATA_READ && v[3] <= CT_DATA_UNKNOWN : v[2] == 0);
}

static int get_rows(const unsigned char **p, const unsigned char *end, enum section section,
                    ct_file_rows_fn fn, void *ud)
{
    static const int widths[] = {CT_FILE_CALL_COLS, CT_FILE_ACCOUNT_COLS, CT_FILE_RESOURCE_COLS};
    int cols = widths[section];
    uint64_t rows;
    /* Every value takes at least a byte: a count beyond that is damage,
     * caught before looping over it. */
    if (!get_varint(p, end, &rows) || rows > (uint64_t)(end - *p) / (uint64_t)cols)
        return CT_ESTORE;
    uint64_t prev[CT_FILE_CALL_COLS] = {0};
    int64_t row[CT_FILE_CALL_COLS];
    for (uint64_t r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
            uint64_t z;
            if (!get_varint(p, end, &z))
                return CT_ESTORE;
            prev[c] += unzigzag(z);
            row[c] = (int64_t)prev[c];
        }
        if (!row_valid(row, section))
            return CT_ESTORE;
        int rc = fn(ud, row);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int ct_file_rows_decode(const void *data, size_t len, ct_file_rows_fn on_call,
                        ct_file_rows_fn on_account, ct_file_rows_fn on_resource, void *ud)
{
    const unsigned char *p = data, *end = p + len;
    if (len == 0)
        return CT_ESTORE;
    int rc = get_rows(&p, end, SECTION_CALLS, on_call, ud);
    if (rc == 0)
        rc = get_rows(&p, end, SECTION_ACCOUNTS, on_account, ud);
    if (rc == 0)
        rc = get_rows(&p, end, SECTION_RESOURCES, on_resource, ud);
    if (rc == 0 && p != end)
        rc = CT_ESTORE;
    return rc;
}

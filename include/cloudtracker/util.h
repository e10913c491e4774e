/* Small shared building blocks: a growable byte buffer, a string-keyed hash
 * map, string helpers, terminal-safe escaping and bounded file reading. */
#ifndef CLOUDTRACKER_UTIL_H
#define CLOUDTRACKER_UTIL_H

#include "cloudtracker/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- ct_buf: growable byte buffer, always NUL-terminated when len > 0 ---- */
typedef struct ct_buf {
    char *data;
    size_t len;
    size_t cap;
} ct_buf;

#define CT_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Ensures room for `extra` more bytes plus a NUL. Returns 0 or CT_ENOMEM. */
int ct_buf_reserve(ct_buf *b, size_t extra);
/* Appends bytes / a C string / printf output. Return 0 or CT_ENOMEM. */
int ct_buf_append(ct_buf *b, const void *data, size_t len);
int ct_buf_puts(ct_buf *b, const char *s);
int ct_buf_printf(ct_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties the buffer but keeps its memory. */
void ct_buf_reset(ct_buf *b);
/* Frees the memory; the buffer is then empty and reusable. */
void ct_buf_release(ct_buf *b);
/* Hands the bytes to the caller (free() them) and empties the buffer. Never
 * returns NULL unless out of memory. */
char *ct_buf_detach(ct_buf *b);

/* Makes room for one more item in an array of *cap items of `size` bytes
 * each, `count` of them used: returns `items` when there is room, else the
 * array grown to twice its capacity (`initial` items the first time), with
 * *cap updated. NULL when out of memory or the size would overflow; the
 * array and *cap are then unchanged. Usage:
 *     T *items = ct_array_grow(list->items, &list->cap, list->count, sizeof(*items), 16);
 *     if (!items) return CT_ENOMEM;
 *     list->items = items; */
void *ct_array_grow(void *items, size_t *cap, size_t count, size_t size, size_t initial);

/* ---- ct_text_arena: strings copied into big chunks, all freed at once ----
 * So many short strings cost a few mallocs rather than one each. Zero is
 * an empty arena. */
typedef struct ct_text_arena {
    struct ct_text_chunk *head;
} ct_text_arena;

/* A NUL-terminated copy of s[0..n) in the arena, or NULL when out of
 * memory. */
char *ct_text_strndup(ct_text_arena *a, const char *s, size_t n);
/* A copy of the C string s (NULL: ""), or NULL when out of memory. */
char *ct_text_strdup(ct_text_arena *a, const char *s);
/* Frees everything handed out; the arena is then empty and reusable. */
void ct_text_release(ct_text_arena *a);

/* ---- ct_strmap: open-addressing hash map, string key -> void* value ----
 * Keys are copied and owned by the map; values are borrowed. */
typedef struct ct_strmap ct_strmap;

/* Returns a new empty map, or NULL when out of memory. */
ct_strmap *ct_strmap_new(void);
/* Frees the map and its key copies (not the values). NULL is harmless. */
void ct_strmap_free(ct_strmap *m);
/* Inserts or replaces. Returns 0 or CT_ENOMEM. */
int ct_strmap_put(ct_strmap *m, const char *key, void *value);
/* Returns true and sets *value (if non-NULL) when key is present. */
bool ct_strmap_get(const ct_strmap *m, const char *key, void **value);
size_t ct_strmap_count(const ct_strmap *m);
/* Iteration: start with *pos = 0; returns false when done. */
bool ct_strmap_next(const ct_strmap *m, size_t *pos, const char **key, void **value);

/* ---- strings ---- */
/* malloc'd copy of s (NULL if s is NULL or out of memory). */
char *ct_strdup(const char *s);
char *ct_strndup(const char *s, size_t n);
/* malloc'd lowercase (ASCII) copy. */
char *ct_strdup_lower(const char *s);
/* Lowercases ASCII letters in place. */
void ct_str_lower(char *s);
/* ASCII case-insensitive comparisons. */
int ct_strcasecmp(const char *a, const char *b);
bool ct_str_starts_with(const char *s, const char *prefix);
bool ct_str_ends_with(const char *s, const char *suffix);
/* The value of a hexadecimal digit (either case), or -1. */
int ct_hex_digit(int c);
/* 64-bit FNV-1a hash of n bytes. */
uint64_t ct_hash_bytes(const void *data, size_t n);
/* Room for the base64 of n bytes, with the NUL. */
#define CT_BASE64_SIZE(n) (4 * (((n) + 2) / 3) + 1)
/* Writes the base64 (RFC 4648 section 4: standard alphabet, with padding)
 * of the n bytes at data into out, which has room for CT_BASE64_SIZE(n). */
void ct_base64_encode(const void *data, size_t n, char *out);

/* True when the n bytes are well-formed UTF-8 (no overlongs, no surrogates). */
bool ct_utf8_valid(const char *s, size_t n);

/* The code point of the well-formed UTF-8 sequence of k (1-4) bytes at s. */
uint32_t ct_utf8_decode(const char *s, size_t k);
/* True for the characters that change how text is shown without being seen:
 * Unicode's format characters (category Cf: bidirectional embeddings,
 * overrides and isolates U+202A-U+202E and U+2066-U+2069, zero-width spaces
 * and joiners, the BOM, tag characters, ...) and the line and paragraph
 * separators U+2028 and U+2029. */
bool ct_unicode_is_hidden(uint32_t cp);

/* Appends `s` made safe to print on a terminal: control characters
 * (including ESC), DEL, C1 controls and invalid UTF-8 become \xNN escapes,
 * the characters of ct_unicode_is_hidden become \uNNNN (\UNNNNNNNN above
 * U+FFFF), and a backslash becomes "\\". Strings from logs and IAM files go
 * through this before they reach stdout or stderr. Returns 0 or CT_ENOMEM. */
int ct_buf_put_safe(ct_buf *b, const char *s);
/* Convenience: malloc'd safe copy of s (NULL when out of memory). */
char *ct_safe_dup(const char *s);

/* ---- files ---- */
/* Reads the whole file at `path` into *out (malloc'd, NUL-terminated after
 * the *out_len bytes; free() it). Only a regular file is read: a folder, a
 * FIFO, a device or a socket is refused without being opened (so nothing
 * blocks), and so is a file of more than `max` bytes (max < SIZE_MAX / 2).
 * Errors have code `code` (the caller's class, e.g. CT_ECONFIG), name `path`
 * and say "cannot read <what>: ..."; CT_ENOMEM when out of memory. */
int ct_file_read_regular(char **out, size_t *out_len, const char *path, size_t max, int code,
                         const char *what, ct_error *err);
/* Writes n as "16 MiB", "1 GiB", "4 KiB" when it is a whole multiple, else
 * "N bytes". */
void ct_size_format(size_t n, char *buf, size_t size);
/* What a file that is not a regular file is, for messages: "a folder", "a
 * named pipe (FIFO)", "a socket", "a character device", "a block device". */
const char *ct_file_kind(mode_t mode);

#endif

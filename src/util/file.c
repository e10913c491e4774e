/* Reading a whole input file (the config, the IAM authorization details)
 * into memory, refusing what is not a regular file and what is too large,
 * so a FIFO, a device or a huge file can neither block nor exhaust memory. */
#include "cloudtracker/error.h"
#include "cloudtracker/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void ct_size_format(size_t n, char *buf, size_t size)
{
    if (n >= ((size_t)1 << 30) && n % ((size_t)1 << 30) == 0)
        snprintf(buf, size, "%zu GiB", n >> 30);
    else if (n >= ((size_t)1 << 20) && n % ((size_t)1 << 20) == 0)
        snprintf(buf, size, "%zu MiB", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, size, "%zu KiB", n >> 10);
    else
        snprintf(buf, size, "%zu bytes", n);
}

const char *ct_file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a folder";
    if (S_ISFIFO(mode))
        return "a named pipe (FIFO)";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "an unknown kind of file";
}

static int not_regular(const char *path, mode_t mode, int code, const char *what, ct_error *err)
{
    return ct_error_set_at(err, code, path, 0, 0, "cannot read %s: it is %s, not a regular file",
                           what, ct_file_kind(mode));
}

static int too_large(const char *path, size_t max, int code, const char *what, ct_error *err)
{
    char limit[32];
    ct_size_format(max, limit, sizeof(limit));
    return ct_error_set_at(err, code, path, 0, 0,
                           "cannot read %s: the file is larger than the %s limit", what, limit);
}

int ct_file_read_regular(char **out, size_t *out_len, const char *path, size_t max, int code,
                         const char *what, ct_error *err)
{
    *out = NULL;
    *out_len = 0;
    /* stat first: opening a device can have effects of its own (a tape
     * rewinds, a watchdog arms), so nothing but a regular file is opened. */
    struct stat st;
    if (stat(path, &st) != 0)
        return ct_error_set_at(err, code, path, 0, 0, "cannot read %s: %s", what, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return not_regular(path, st.st_mode, code, what, err);
    /* O_NONBLOCK: if a FIFO took the file's place since stat, open returns
     * at once instead of waiting for a writer, and fstat below refuses it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return ct_error_set_at(err, code, path, 0, 0, "cannot read %s: %s", what, strerror(errno));
    int rc = 0;
    char *buf = NULL;
    size_t len = 0;
    if (fstat(fd, &st) != 0) {
        rc = ct_error_set_at(err, code, path, 0, 0, "cannot read %s: %s", what, strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = not_regular(path, st.st_mode, code, what, err);
        goto done;
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > max) {
        rc = too_large(path, max, code, what, err);
        goto done;
    }
    /* The size is a hint: the file may grow or shrink while it is read, so
     * the buffer grows as needed and the limit is checked on what was read. */
    size_t cap = (size_t)st.st_size + 1;
    if (cap < 4096)
        cap = 4096;
    if (!(buf = malloc(cap))) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory reading %s", path);
        goto done;
    }
    for (;;) {
        if (len + 1 == cap) {
            if (len > max) {
                rc = too_large(path, max, code, what, err);
                goto done;
            }
            size_t ncap = cap < max / 2 ? cap * 2 : max + 2;
            char *nbuf = realloc(buf, ncap);
            if (!nbuf) {
                rc = ct_error_set(err, CT_ENOMEM, "out of memory reading %s", path);
                goto done;
            }
            buf = nbuf;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc =
                ct_error_set_at(err, code, path, 0, 0, "cannot read %s: %s", what, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > max) {
        rc = too_large(path, max, code, what, err);
        goto done;
    }
    buf[len] = '\0';
done:
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

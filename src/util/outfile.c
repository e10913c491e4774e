/* Output files written whole, beside their target, then renamed into place
 * (see outfile.h). */
#include "cloudtracker/outfile.h"

#include "cloudtracker/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void release(ct_outfile *f)
{
    free(f->path);
    free(f->tmp_path);
    f->path = f->tmp_path = NULL;
    f->fp = NULL;
}

int ct_outfile_open(ct_outfile *f, const char *path, ct_error *err)
{
    memset(f, 0, sizeof(*f));
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    const char *name = path + dir_len;
    if (!*name)
        return ct_error_set(err, CT_EIO, "%s: not a file name", path);
    ct_buf tmp = CT_BUF_INIT;
    if (ct_buf_printf(&tmp, "%.*s.%s.XXXXXX", (int)dir_len, path, name) ||
        !(f->path = ct_strdup(path))) {
        ct_buf_release(&tmp);
        release(f);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    f->tmp_path = ct_buf_detach(&tmp);
    /* mkstemp creates with O_EXCL and mode 0600: a name planted in its way
     * makes it pick another, never open the planted one. */
    int fd = mkstemp(f->tmp_path);
    if (fd < 0 || !(f->fp = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(f->tmp_path);
        }
        ct_error_set(err, CT_EIO, "%s: cannot create: %s", path, strerror(e));
        release(f);
        return CT_EIO;
    }
    return 0;
}

int ct_outfile_commit(ct_outfile *f, ct_error *err)
{
    if (!f->fp)
        return ct_error_set(err, CT_EINTERNAL, "%s: committed without being open",
                            f->path ? f->path : "output file");
    int e = 0;
    if (fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0)
        e = errno;
    if (fclose(f->fp) != 0 && !e)
        e = errno;
    f->fp = NULL;
    if (!e && rename(f->tmp_path, f->path) != 0)
        e = errno;
    if (e) {
        unlink(f->tmp_path);
        ct_error_set(err, CT_EIO, "%s: cannot write: %s", f->path, strerror(e));
        release(f);
        return CT_EIO;
    }
    release(f);
    return 0;
}

void ct_outfile_abort(ct_outfile *f)
{
    if (f->fp) {
        fclose(f->fp);
        unlink(f->tmp_path);
    }
    release(f);
}

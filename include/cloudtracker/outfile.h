/* Output files written whole or not at all, and never through a link: the
 * content goes to a new temporary file beside the target (created with
 * O_EXCL, so nothing that exists is opened), which is renamed over the
 * target when complete. Renaming replaces the target's name, so a symbolic
 * or hard link planted at that name never leads the write into another
 * file, and a reader sees the old content or the new, never half. Used for
 * the loader's reject file and meant for every whole-file output. */
#ifndef CLOUDTRACKER_OUTFILE_H
#define CLOUDTRACKER_OUTFILE_H

#include "cloudtracker/error.h"

#include <stdio.h>

typedef struct ct_outfile {
    char *path;     /* the target */
    char *tmp_path; /* the temporary file, NULL when none is open */
    FILE *fp;       /* write here between open and commit */
} ct_outfile;

/* Creates the temporary file for `path` (mode 0600, same folder, a hidden
 * name ".<name>.XXXXXX") and opens it for writing in f->fp. Errors: CT_EIO
 * naming `path` and the reason; f is then left closed. */
int ct_outfile_open(ct_outfile *f, const char *path, ct_error *err);

/* Flushes, syncs and closes the temporary file and renames it to the
 * target. On failure (CT_EIO naming the target) the temporary file is
 * removed and the target is left as it was. */
int ct_outfile_commit(ct_outfile *f, ct_error *err);

/* Closes and removes the temporary file, if one is open; the target is left
 * as it was. Harmless on a closed or zeroed ct_outfile. */
void ct_outfile_abort(ct_outfile *f);

#endif

/* Finding trail files below the paths an ingest is given (internal to
 * src/source): shared by the embedded store's ingest and the Elasticsearch
 * loader, so both read exactly the same files. What is read and what is
 * left out is described at ct_store_ingest (store.h). */
#ifndef CT_TRAIL_WALK_H
#define CT_TRAIL_WALK_H

#include "cloudtracker/error.h"
#include "cloudtracker/source.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ct_walk ct_walk;

/* A trail file found by the walk. */
typedef struct ct_found_file {
    char *path;         /* canonical */
    char *path_account; /* account from the trail layout, or NULL */
    int64_t size;
    int64_t mtime_ns;
} ct_found_file;

/* Starts a walk over `paths` (folders or files), resolved to canonical
 * names; a path inside another is walked once. A missing or unreadable path
 * fails here (CT_EINPUT naming it), before anything is read. With
 * account_id, files in the trail layout of another account are left out.
 * Problems met while walking (an unreadable folder, a dangling link) are
 * added to `problems`, which must outlive the walk. */
int ct_walk_new(ct_walk **out, const char *const *paths, size_t path_count, const char *account_id,
                ct_input_problems *problems, ct_error *err);
/* Leaves the file dev/ino out of the walk (the store itself, a reject file
 * written among the logs). 0 or CT_ENOMEM. */
int ct_walk_skip(ct_walk *w, dev_t dev, ino_t ino);
/* The next file: *have is true with `f` filled (release it with
 * ct_found_file_release), false when the walk is over. 0 or CT_ENOMEM. */
int ct_walk_next(ct_walk *w, ct_found_file *f, bool *have, ct_error *err);
void ct_found_file_release(ct_found_file *f);
/* NULL-safe. */
void ct_walk_free(ct_walk *w);

#endif

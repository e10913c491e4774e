/* A store of some CloudTrail logs in a scratch folder, behind the
 * event-source interface, for the tests that ask questions of real logs
 * (the demo's, the stratus-red-team fixture): opened and read once, and
 * removed with its folder at the end. Header-only (static inline). */
#ifndef CT_SCRATCH_STORE_H
#define CT_SCRATCH_STORE_H

#include "cloudtracker/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct scratch_store {
    char dir[512];
    char path[600];
    ct_source *source; /* NULL when opening failed */
} scratch_store;

/* Makes a folder under $TMPDIR named after `name`, a store in it, and
 * reads the logs under `logs` into it. Returns 0, or -1 with the reason on
 * stderr (s->source is then NULL). */
static inline int scratch_store_open(scratch_store *s, const char *name, const char *logs)
{
    const char *tmp = getenv("TMPDIR");
    s->source = NULL;
    snprintf(s->dir, sizeof(s->dir), "%s/ct-%s-XXXXXX", tmp && tmp[0] ? tmp : "/tmp", name);
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(s->path, sizeof(s->path), "%s/store.db", s->dir);
    ct_error err;
    ct_store *store = NULL;
    const char *paths[] = {logs};
    ct_ingest_options opts = {0};
    opts.paths = paths;
    opts.path_count = 1;
    ct_input_problems problems = {0};
    if (ct_store_open(&store, s->path, true, &err) != 0 ||
        ct_store_source(&s->source, store, &opts, &err) != 0 ||
        s->source->refresh(s->source, &problems, &err) != 0) {
        fprintf(stderr, "scratch store: %s\n", err.message);
        ct_source_free(s->source);
        s->source = NULL;
        ct_input_problems_release(&problems);
        return -1;
    }
    ct_input_problems_release(&problems);
    return 0;
}

/* Frees the source and removes the store and its folder. */
static inline void scratch_store_close(scratch_store *s)
{
    ct_source_free(s->source);
    s->source = NULL;
    char side[620];
    unlink(s->path);
    snprintf(side, sizeof(side), "%s-wal", s->path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", s->path);
    unlink(side);
    rmdir(s->dir);
}

#endif

/*
 * export.c - writing a trace's tensors as .npy files (see export.h).
 */
#include "export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "npy.h"

/* Most tensors a trace shows, counting repeats. */
#define MAX_SHOWN (TRACE_MAX_STEPS * TRACE_MAX_STEP_TENSORS)

/* Makes sure dir is a directory, creating it (one level) when missing. */
static bool ensure_dir(const char *dir, Error *err)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return error_set(err, STATUS_FAILURE, "%s: not a directory", dir);
        return true;
    }
    if (errno != ENOENT)
        return error_set(err, STATUS_FAILURE, "%s: cannot use it as a directory: %s", dir, strerror(errno));
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return error_set(err, STATUS_FAILURE, "%s: cannot create the directory: %s", dir, strerror(errno));
    return true;
}

/* Writes one tensor to path: float32, or int64 when it holds whole
 * numbers (the token ids, which the trace keeps as exact floats). */
static bool write_tensor(const char *path, const TraceTensor *tt, uint64_t *bytes, Error *err)
{
    const Tensor *t = tt->tensor;
    NpyArray arr = {0};
    arr.dtype = tt->is_integer ? NPY_INT64 : NPY_FLOAT32;
    arr.ndim = t->ndim;
    for (int i = 0; i < TENSOR_MAX_DIMS; i++)
        arr.shape[i] = t->shape[i];
    int64_t *ids = NULL;
    if (tt->is_integer) {
        ids = malloc(t->size * sizeof *ids);
        if (ids == NULL)
            return error_oom(err, "token ids to export");
        for (size_t i = 0; i < t->size; i++)
            ids[i] = (int64_t)t->data[i];
        arr.data = ids;
    } else {
        arr.data = t->data;
    }
    bool ok = npy_write(path, &arr, bytes, err);
    free(ids);
    return ok;
}

bool export_npy(const Trace *trace, const char *dir, int only_step, ExportSummary *summary, Error *err)
{
    ExportSummary done = {0, 0};
    if (summary != NULL)
        *summary = done;
    if (!ensure_dir(dir, err))
        return false;
    /* the directory without trailing slashes (but "/" stays "/") */
    size_t dir_len = strlen(dir);
    while (dir_len > 1 && dir[dir_len - 1] == '/')
        dir_len--;
    const char *sep = dir[dir_len - 1] == '/' ? "" : "/";

    /* (part, name) pairs already written */
    const TraceTensor *written[MAX_SHOWN];
    TracePart written_part[MAX_SHOWN];
    int n_written = 0;
    for (int i = 0; i < trace->n_steps; i++) {
        if (only_step >= 0 && i != only_step)
            continue;
        const TraceStep *step = &trace->steps[i];
        for (int j = 0; j < step->n_tensors; j++) {
            const TraceTensor *tt = &step->tensors[j];
            bool seen = false;
            for (int k = 0; k < n_written && !seen; k++)
                seen = written_part[k] == step->part && strcmp(written[k]->name, tt->name) == 0;
            if (seen || n_written == MAX_SHOWN)
                continue;
            char path[LIMIT_PATH_BYTES];
            int n = snprintf(path, sizeof path, "%.*s%s%s.%s.npy", (int)dir_len, dir, sep, trace_part_name(step->part),
                             tt->name);
            if (n < 0 || (size_t)n >= sizeof path)
                return error_set(err, STATUS_FAILURE, "%s: the path is too long", dir);
            uint64_t bytes = 0;
            if (!write_tensor(path, tt, &bytes, err))
                return false;
            written[n_written] = tt;
            written_part[n_written++] = step->part;
            done.files++;
            done.bytes += bytes;
            if (summary != NULL)
                *summary = done;
        }
    }
    return true;
}

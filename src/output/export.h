/*
 * export.h - a trace's tensors as NumPy .npy files (--export-npy DIR).
 *
 * Every tensor a trace shows is written once, as DIR/<part>.<name>.npy:
 * the part is "single_head" or "multi_head" and the name is the tensor's
 * as the trace shows it (single_head.attention_weights.npy,
 * multi_head.queries.npy, single_head.query_1.npy). Values are float32;
 * whole-number tensors (the token ids) are int64. A tensor shown by
 * several steps of a part is the same tensor, so it is written once.
 */
#ifndef ATTN_EXPORT_H
#define ATTN_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "trace.h"

/* What an export wrote. */
typedef struct ExportSummary {
    int files;      /* .npy files written */
    uint64_t bytes; /* their total size */
} ExportSummary;

/* Writes the tensors of trace into dir: those of every step, or only
 * those step only_step shows when it is >= 0. dir is created (one level,
 * mode 0777 less the umask) when it does not exist. Each file appears
 * whole or not at all (npy_write). Errors carry STATUS_FAILURE and name
 * the path: dir is not a directory or cannot be created, a file cannot be
 * written. *summary (when not NULL) gets the count and size written, also
 * on failure. */
bool export_npy(const Trace *trace, const char *dir, int only_step, ExportSummary *summary, Error *err);

#endif

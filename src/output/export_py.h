/*
 * export_py.h - a standalone Python script that rebuilds a trace with
 * PyTorch and checks it against attn-trace's own numbers (--export-py FILE).
 *
 * The script holds the trace's configuration (seed, token ids, sizes,
 * focus, causal), the paths of the --weights files the trace loaded, the
 * names of the tensors an --export-npy directory holds, and the article's
 * PyTorch code for both parts. For a model trace (--model) it holds the
 * checkpoint's path, the layer and the token ids instead, and rebuilds
 * GPT-2 from the checkpoint with torch.nn.functional (with its own small
 * safetensors reader). Run beside that directory it compares every
 * tensor: bit for bit when the reference kernels computed the trace (for
 * a model, up to the first GELU), else within a stated tolerance.
 * docs/verify.md describes it.
 */
#ifndef ATTN_EXPORT_PY_H
#define ATTN_EXPORT_PY_H

#include <stdbool.h>

#include "error.h"
#include "strbuf.h"
#include "trace.h"

/* The tolerance a script promises for a trace of the fast kernels: a value
 * passes when |attn-trace - torch| <= ATOL + RTOL * |torch| (the whole-trace
 * bound tests/check_kernels.c holds the fast kernels to). */
#define EXPORT_PY_RTOL "1e-4"
#define EXPORT_PY_ATOL "1e-4"

/* The tolerance of a model trace's tensors computed after a GELU, on the
 * reference kernels: attn-trace's tanh is 1 ulp from SLEEF's, which torch
 * uses, on about 0.14% of inputs (docs/architecture.md, "The math"); this
 * is the bound tests/check_model.c holds the model to. */
#define EXPORT_PY_GELU_RTOL "1e-5"
#define EXPORT_PY_GELU_ATOL "1e-5"

/* What a script is made from, besides the trace. */
typedef struct ExportPyOptions {
    const char *npy_dir; /* the directory the script checks by default (--export-npy's), or NULL */
    int only_step;       /* --step's index: only that step's tensors are expected; -1 for every step */
} ExportPyOptions;

/* Appends the script for trace to out. The tensors a trace loaded from
 * --weights are named by their absolute paths (trace_weight_paths in
 * export_py.c resolves them from the trace's config; NULL weights_dir
 * means none was loaded). Never fails (StrBuf records running out of memory). */
void export_py_script(StrBuf *out, const Trace *trace, const char *weights_dir, const ExportPyOptions *opts);

/* Writes the script for trace to path, mode 0755, whole or not at all (a
 * temporary file beside it, renamed into place). False with err
 * (STATUS_FAILURE, naming the path) when it cannot be written, or when out
 * of memory. */
bool export_py(const Trace *trace, const char *path, const char *weights_dir, const ExportPyOptions *opts, Error *err);

#endif

/*
 * experiment.h - changes to a trace (issue 13), and what they change.
 *
 * An experiment is one change to how a trace is computed: skip the
 * division by √d_k or divide by another number, drop or add the causal
 * mask, zero one head before the heads are put side by side, swap two
 * tokens, leave out a model's position embeddings, replace one value of a
 * named tensor, or decode one token alone against a cache of the keys and
 * values before it. An ExperimentSet is an ordered list of them.
 *
 * The changes ride in the Config (cfg->experiments): trace_build applies
 * them through the same step table as an ordinary trace. A change is made
 * by the step that owns what it changes, and every later step simply
 * computes from the changed tensors. trace_diff then compares the original
 * trace with the changed one tensor by tensor, cell by cell.
 *
 * One spelling serves the command line and lessons (experiment_parse):
 *   no-scale                 scores are not divided (divisor 1)
 *   scale=N                  scores are divided by N instead of √d_k
 *   no-mask                  the causal mask is off
 *   causal                   the causal mask is on
 *   zero-head=H              head H's outputs (0-based) become 0 before concat
 *   swap-tokens=I,J          tokens I and J (0-based positions) trade places
 *   no-positions             a model trace's position embeddings become 0
 *   set=NAME[i,j,...]=VALUE  one value of tensor NAME, right after it is made;
 *                            PART:NAME (single_head, multi_head, model) picks
 *                            the part, else the first part that has NAME
 *   kv-cache[=P]             decode token P (0-based; default the last) alone
 *                            against the cached keys and values of 0..P-1
 * Indices are 0-based, as PyTorch's are.
 */
#ifndef ATTN_EXPERIMENT_H
#define ATTN_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>

#include "attn_limits.h"
#include "config.h"
#include "error.h"
#include "tensor.h"
#include "trace.h"

struct Weights;

typedef enum ExperimentKind {
    EXP_NO_SCALE,     /* the scores are not divided */
    EXP_SCALE,        /* the scores are divided by .scale */
    EXP_NO_MASK,      /* no causal mask */
    EXP_CAUSAL,       /* the causal mask */
    EXP_ZERO_HEAD,    /* head .head's head_outputs are 0 */
    EXP_SWAP_TOKENS,  /* tokens .token_a and .token_b swap places */
    EXP_NO_POSITIONS, /* position_embed is 0 (model traces) */
    EXP_SET,          /* .tensor[.index] = .value */
    EXP_KV_CACHE      /* the one-token decode of token .token */
} ExperimentKind;

typedef struct Experiment {
    ExperimentKind kind;
    float scale;                      /* EXP_SCALE: the divisor, finite and not 0 */
    size_t head;                      /* EXP_ZERO_HEAD: 0-based */
    size_t token_a, token_b;          /* EXP_SWAP_TOKENS: 0-based positions, token_a != token_b */
    size_t token;                     /* EXP_KV_CACHE: 0-based position decoded; SIZE_MAX for the last */
    bool has_part;                    /* EXP_SET: a PART: prefix was given */
    TracePart part;                   /* EXP_SET: that part (when has_part) */
    char tensor[TRACE_NAME_BYTES];    /* EXP_SET: the tensor's name in its part */
    int n_index;                      /* EXP_SET: indices given, 1..TENSOR_MAX_DIMS */
    size_t index[TENSOR_MAX_DIMS];    /* EXP_SET: 0-based */
    float value;                      /* EXP_SET: the new value (may be inf or nan, spelled so) */
    char spec[EXPERIMENT_SPEC_BYTES]; /* the change as parsed, in its canonical spelling ("scale=8") */
} Experiment;

/* An ordered list of changes; applied in this order. Plain data: copy it
 * with = or memcpy. */
typedef struct ExperimentSet {
    int n; /* changes held, 0..EXPERIMENT_MAX */
    Experiment items[EXPERIMENT_MAX];
    bool base_causal; /* set by experiment_config: the causal flag of the config before the changes */
} ExperimentSet;

/* Empties set. */
void experiment_set_init(ExperimentSet *set);

/* Parses one change (the spellings above) and appends it to set. On a bad
 * spec returns false with err set (STATUS_USAGE) and err->at the byte
 * offset in spec of the bad part, for error_locate; set is unchanged. A
 * set that already holds EXPERIMENT_MAX changes refuses another. */
bool experiment_parse(ExperimentSet *set, const char *spec, Error *err);

/* Parses a list of changes separated by white space or ';' (a lesson's
 * `experiment:` line), appending each to set. err->at is an offset in
 * text. On failure set keeps the changes parsed before the bad one. */
bool experiment_parse_list(ExperimentSet *set, const char *text, Error *err);

/* Checks that every change of set makes sense for a trace of cfg (cfg
 * validated): the head exists, the tokens exist, a SET names a tensor
 * that trace has (in the part given; the number of its indices and their
 * range are checked when the tensor is made, by trace_build_experiments,
 * which refuses an index out of range with one line), no-positions
 * only with a model, no-mask not on a model (GPT-2 always masks),
 * kv-cache only on a causal article trace (a causal change counts).
 * False with err set (STATUS_USAGE) naming the change. A NULL or empty
 * set is fine. */
bool experiment_check(const ExperimentSet *set, const Config *cfg, Error *err);

/* The last change of kind in set, or NULL (set may be NULL). */
const Experiment *experiment_find(const ExperimentSet *set, ExperimentKind kind);

/* The canonical spellings of set's changes, one space apart, into out
 * (cut to fit, always terminated). "" for a NULL or empty set. */
void experiment_describe(const ExperimentSet *set, char *out, size_t size);

/* Whether cfg's trace decodes with a KV cache (a kv-cache change). */
bool experiment_kv_cache(const Config *cfg);

/* The config a changed trace of cfg is built from: a copy of cfg with the
 * changes of set that alter the config applied (causal on or off, tokens
 * swapped) and set attached as dst->experiments. dst is overwritten; free
 * it with config_free. set is checked (experiment_check) first. */
bool experiment_config(Config *dst, const Config *cfg, const ExperimentSet *set, Error *err);

/* The config a changed config (experiment_config's dst) was made from:
 * the swaps undone, the causal flag restored, no experiments. A config
 * without changes is simply copied. dst is overwritten; free it with
 * config_free. */
bool experiment_base_config(Config *dst, const Config *changed, Error *err);

/* Builds the trace of cfg under the changes of set (NULL or empty: the
 * ordinary trace), with weights as trace_build_weights takes them (NULL
 * for none). Returns a new Trace (trace_free) whose config carries the
 * changes (trace->config.experiments), or NULL with err set. */
Trace *trace_build_experiments(const Config *cfg, const struct Weights *weights, const ExperimentSet *set, Error *err);

/* ------------------------------------------------------------------------
 * Making the changes (the step functions of trace.c call these)
 * ---------------------------------------------------------------------- */

/* The last no-scale or scale= change of set, or NULL (set may be NULL). */
const Experiment *experiment_scale(const ExperimentSet *set);

/* The divisor the scores take under e (experiment_scale's result): 1 for
 * no-scale, e->scale for scale=N; standard when e is NULL. */
float experiment_divisor(const Experiment *e, float standard);

/* Zeroes the heads that set's zero-head changes name in heads ([h, s, e],
 * head_outputs), and writes a note for the formula into note (", head 1
 * zeroed (zero-head=1)"; "" when none; note may be NULL). */
void experiment_zero_heads(const ExperimentSet *set, Tensor *heads, char *note, size_t size);

/* The part a set= change applies to in cfg's trace: its PART: prefix, or
 * the first part (in the walk's order) whose rows list its tensor. */
TracePart experiment_set_part(const Experiment *e, const Config *cfg);

/* Makes the set= change e on t: t[e->index] = e->value. False with err set
 * (STATUS_USAGE) when the indices do not fit t's shape. */
bool experiment_apply_one(const Experiment *e, Tensor *t, Error *err);

/* Makes every set= change of set that names the tensor `name` of part (in
 * cfg's trace) on t, in order. False with err set when one does not fit. */
bool experiment_apply_sets(const ExperimentSet *set, const Config *cfg, TracePart part, const char *name, Tensor *t,
                           Error *err);

/* The trace of from's original configuration (experiment_base_config of
 * from->config) under the changes of set (NULL or empty: none), bit for
 * bit what trace_build_experiments(that config, weights, set) builds, made
 * by trace_build_from: the steps no change of from's set or of set reaches
 * are shared with from, not run again (a model trace is built whole).
 * weights must be those from was built with. Returns a new Trace (free it
 * with trace_free, before or after from) or NULL with err set. */
Trace *trace_rebuild(const Trace *from, const struct Weights *weights, const ExperimentSet *set, Error *err);

/* Recomputes trace in place under the changes of set (NULL or empty: no
 * change), as trace_rebuild(trace, weights, set) would build it; the
 * tensors that no change reaches stay where they are. weights must be
 * those the trace was built with. On failure returns false with err set
 * and trace is left as it was. */
bool trace_recompute(Trace *trace, const struct Weights *weights, const ExperimentSet *set, Error *err);

/* The TraceUses (trace.h) whose effect differs between a trace of a and one
 * of b (two configs that differ at most as experiment_config makes them
 * differ): the token ids or words, the causal flag, the divisor's change,
 * the heads zeroed, no-positions, the kv-cache token. A step whose row
 * consults none of them, reading unchanged tensors, makes the same
 * tensors in both. */
unsigned experiment_uses_changed(const Config *a, const Config *b);

/* Whether the set= changes that a's trace makes on its tensor `name` of
 * part are the ones b's makes, in the same order, spelled the same. */
bool experiment_sets_same(const Config *a, const Config *b, TracePart part, const char *name);

/* For a trace with a kv-cache change: how many values of the one-token
 * decode (kv_output, [h, d_k]) differ in their bits from row P of the full
 * causal attention (head_outputs[:, P, :]); 0 means bit for bit. SIZE_MAX
 * when the trace has no decode. */
size_t experiment_kv_mismatches(const Trace *trace);

/* ------------------------------------------------------------------------
 * What changed: two traces compared
 * ---------------------------------------------------------------------- */

/* One tensor of the two traces, by part and name. */
typedef struct TensorDiff {
    TracePart part;
    char name[TRACE_NAME_BYTES];
    const Tensor *a;   /* the first (original) trace's, or NULL when it has none of that name */
    const Tensor *b;   /* the second (changed) trace's, or NULL */
    bool same_shape;   /* both exist with the same shape (else every cell counts as changed) */
    size_t cells;      /* cells compared: the size of b (or of a when b is NULL) */
    size_t changed;    /* cells that differ (see trace_diff) */
    double max_change; /* the largest |b - a| over changed cells; INFINITY when one side is inf or NaN */
    size_t max_at;     /* the flat index (row-major) of that change in b; 0 when nothing changed */
} TensorDiff;

typedef struct TraceDiff {
    int n;                                    /* tensors compared */
    TensorDiff tensors[2 * TRACE_MAX_VALUES]; /* in b's order of making, then those only a has */
    size_t changed;                           /* the sum of every tensor's changed cells */
    int tensors_changed;                      /* tensors with at least one changed cell */
} TraceDiff;

/* Compares every named tensor of a with the tensor of the same part and
 * name in b. Two cells are the same when their bits are equal, or when
 * both are zeros (+0 and -0 count as the same value) or both are NaN
 * (whatever their payloads); every other pair differs. A tensor only one
 * trace has, or of another shape, counts every cell as changed. Fills out
 * (free with trace_diff_free). It keeps no map of the changed cells:
 * trace_diff_cell_changed compares a cell again when asked, so out
 * borrows the tensors of a and b and is valid while both traces live.
 * Allocates nothing today; false with err set is kept for a comparison
 * that may need memory. */
bool trace_diff(const Trace *a, const Trace *b, TraceDiff *out, Error *err);

/* Frees what diff owns and empties it. NULL is a no-op. */
void trace_diff_free(TraceDiff *diff);

/* The entry of part and name, or NULL. */
const TensorDiff *trace_diff_find(const TraceDiff *diff, TracePart part, const char *name);

/* The entry whose a or b is tensor t (a tensor a step shows), or NULL. */
const TensorDiff *trace_diff_for_tensor(const TraceDiff *diff, const Tensor *t);

/* Whether the cell at flat index i (row-major) of the entry changed; every
 * cell of a tensor that is not the same_shape counts as changed. NULL d:
 * false. */
bool trace_diff_cell_changed(const TensorDiff *d, size_t i);

#endif

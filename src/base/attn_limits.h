/*
 * attn_limits.h - every size limit attn-trace enforces, in one place.
 *
 * Each limit is a named constant with the reason it exists. Code that
 * checks an input against a limit names the constant in its error message,
 * so a user who hits one learns which value was too large.
 */
#ifndef ATTN_LIMITS_H
#define ATTN_LIMITS_H

/* Most dimensions a tensor may have: the article needs 3, einsum
 * examples such as 'bhqd,bhkd->bhqk' need 4. */
#define TENSOR_MAX_DIMS 4

/* Largest number of tokens in a sentence. GPT-2 uses 1024 positions;
 * we allow four times that for experiments. */
#define LIMIT_MAX_TOKENS 4096

/* The most timed runs --bench N takes. */
#define LIMIT_MAX_BENCH_RUNS 10000

/* Largest embedding width (d_model). GPT-2 XL uses 1600. */
#define LIMIT_MAX_D_MODEL 4096

/* Largest number of attention heads. */
#define LIMIT_MAX_HEADS 256

/* Largest vocabulary (rows of the embedding table). GPT-2 has 50257. */
#define LIMIT_MAX_VOCAB 262144

/* Longest single word of a sentence, in bytes. */
#define LIMIT_MAX_WORD_BYTES 256

/* Largest sentence file or --sentence argument, in bytes. */
#define LIMIT_MAX_SENTENCE_BYTES (1024 * 1024)

/* Bytes the trace's tensors may take unless --max-memory says otherwise:
 * 1 GiB. GPT-2 small (d_model 768, 12 heads) at 1024 tokens needs about
 * 170 MiB; the cap stops a mistyped size from taking the machine down. */
#define LIMIT_DEFAULT_MAX_BYTES ((unsigned long long)1 << 30)

/* Operands an einsum equation may name. */
#define EINSUM_MAX_OPERANDS 4

/* Distinct letters an einsum equation may use. */
#define EINSUM_MAX_LETTERS 16

/* Longest tensor name in a trace, including the terminating NUL. */
#define TRACE_NAME_BYTES 32

/* Most tensors one step of the trace shows. */
#define TRACE_MAX_STEP_TENSORS 8

/* Most steps in a trace. */
#define TRACE_MAX_STEPS 32

/* Longest .npy header read (the dictionary after the magic, version and
 * length): NumPy's own reader refuses longer ones unless told otherwise,
 * and a real header for four dimensions takes about 130 bytes. */
#define LIMIT_NPY_HEADER_BYTES 10000

/* Size of an error message buffer. */
#define ERROR_MESSAGE_BYTES 512

/* Largest JSON text json_parse reads (vocab.json, a safetensors header,
 * config.json): 64 MiB. GPT-2's vocab.json is about 1 MB; the
 * safetensors format itself caps its header at 100 MB, but a real header
 * for GPT-2 XL is under 100 kB. */
#define LIMIT_JSON_MAX_BYTES (64 * 1024 * 1024)

/* Deepest nesting of arrays and objects json_parse accepts. A safetensors
 * header needs 3, a config.json a few; the limit keeps a hostile file from
 * exhausting the stack of the recursive parser. */
#define LIMIT_JSON_MAX_DEPTH 64

/* Longest word (bytes of one word of GPT-2's pre-split) whose merges
 * bpe_replay records pass by pass. Its states take up to n(n+1)/2 ids, 2 MB
 * at this length; a real word is rarely longer than 20 bytes. Longer words
 * are still encoded, only not replayed. */
#define LIMIT_BPE_REPLAY_BYTES 1024

#endif

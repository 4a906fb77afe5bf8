/*
 * attn_limits.h - the limits attn-trace enforces and the sizes modules
 * share, in one place.
 *
 * Each limit is a named constant with the reason it exists. Code that
 * checks an input against a limit names the constant in its error message,
 * so a user who hits one learns which value was too large.
 *
 * What lives here: every limit a user can run into (an input refused or an
 * output cut), and every size that more than one file relies on (buffer
 * sizes in a public header, a path's size). What stays in its .c file,
 * next to its only use, with a comment: sizes private to one file that no
 * input can exceed (scratch room for a message, a shortened label, the
 * layout of a drawing) and constants fixed by a file format rather than
 * chosen by us (PNG's chunk and stored-block lengths). The scratch
 * buffers of main.c (MAIN_*_BYTES) are of that kind.
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

/* Size of a buffer that holds a file path, NUL included: Linux's PATH_MAX.
 * A longer path is refused with an error naming it, never cut. */
#define LIMIT_PATH_BYTES 4096

/* Text a StrBuf with a sink holds before it writes it out. */
#define STRBUF_FLUSH_BYTES (64 * 1024)

/* Largest --precision or lesson "precision" (float32 has about 9
 * significant digits). */
#define NUMFMT_MAX_PRECISION 9

/* Room for one formatted value, NUL included. */
#define NUMFMT_BUF 48

/* ---- lessons (docs/lesson-format.md) ---- */

/* Errors reported per lesson file; more end in "too many errors". */
#define LESSON_MAX_ERRORS 20

/* Largest lesson file, in bytes. */
#define LESSON_MAX_BYTES (1024 * 1024)

/* Longest line of a lesson file, in bytes. */
#define LESSON_MAX_LINE 4096

/* Steps one lesson may walk (a trace has at most TRACE_MAX_STEPS). */
#define LESSON_MAX_STEPS 32

/* Quizzes per step of a lesson. */
#define LESSON_MAX_QUIZZES 8

/* Hints per quiz. */
#define LESSON_MAX_HINTS 8

/* Choices per choice quiz. */
#define LESSON_MAX_CHOICES 8

/* Bytes of a section's "experiment:" value (its changes, as the flags spell them). */
#define LESSON_EXPERIMENT_BYTES 256

/* Lesson directories searched (see catalog.h). */
#define CATALOG_MAX_DIRS 8

/* Lessons --list-lessons lists from one directory; a directory with more
 * is an error rather than a list silently cut. */
#define CATALOG_MAX_LESSONS 256

/* ---- progress files (progress.h) ---- */

/* Quizzes one lesson's progress records. */
#define PROGRESS_MAX_QUIZZES 256

/* Largest Progress.last_step accepted. */
#define PROGRESS_MAX_STEP 10000

/* Size of Progress.lesson_key, NUL included (a key is 33 characters). */
#define PROGRESS_KEY_BYTES 80

/* Largest time stamp accepted: 9999-12-31 23:59:59 UTC. */
#define PROGRESS_MAX_UPDATED 253402300799LL

/* Largest progress file read; a larger one is not a progress file (a full
 * one is under 700 bytes). */
#define PROGRESS_MAX_FILE_BYTES 2048

/* ---- files written and drawn ---- */

/* Room for any .npy header npy_format_header writes (magic to '\n'). */
#define NPY_HEADER_WRITE_BYTES 256

/* Largest side of a PNG image, in pixels (PNG itself allows 2^31 - 1). */
#define PNG_MAX_SIDE 65536

/* Most tokens drawn as one rectangle (with a tooltip) per cell in --svg;
 * above it each map is a raster image, since s = 512 with 12 heads would
 * be three million rectangles. */
#define SVG_MAX_VECTOR_TOKENS 64

/* Widest token label in an SVG, in columns; a longer word is cut and ends
 * in "…". */
#define SVG_LABEL_COLS 12

/* Widest sentence in an SVG's title, in columns. */
#define SVG_SENTENCE_COLS 90

/* Raw pixel bytes of one PNG embedded in an SVG at most; a larger map is
 * cut into horizontal strips, so no attribute grows past what XML parsers
 * accept. */
#define SVG_MAX_IMAGE_BYTES (3 * 1024 * 1024)

/* Levels of the colour scale in the SVG's raster images (palette entries). */
#define SVG_RASTER_LEVELS 254

/* Most terms of a sum explain_cell lists before eliding the middle ones
 * (the sum itself always covers every term). */
#define EXPLAIN_MAX_TERMS 16

/* Bytes of the weights directory's name as the trace's formulas show it. */
#define WEIGHTS_SHOWN_DIR_BYTES 32

/* Size of an error message buffer. */
#define ERROR_MESSAGE_BYTES 512

/* The most threads the fast kernels use. */
#define KERNELS_MAX_THREADS 64

/* The most threads used when --threads is not given (the CPUs online,
 * at most this many). */
#define KERNELS_DEFAULT_MAX_THREADS 4

/* Smallest terminal the tracer draws in; below it, a message says so. */
#define VIEW_MIN_COLS 50
#define VIEW_MIN_ROWS 12

/* Widest row label (token word) in a panel, in columns. */
#define VIEW_LABEL_MAX 10

/* Bytes a quiz answer may take as it is typed (more is ignored). */
#define QUIZ_INPUT_BYTES 128

/* Largest headless screen, in either direction. */
#define SCREEN_MAX_SIDE 1000

/* Most keys --keys may hold, and so most frames --bench-frames times. */
#define MAX_REPLAY_KEYS 4096

/* After this many reads in a row that fail (not interrupted by a signal)
 * the input is taken as gone, and the UI stops instead of spinning. */
#define TUI_MAX_READ_FAILURES 64

/* Colour pairs the theme may allocate (it needs about 40). */
#define THEME_MAX_PAIRS 64

/* Tensors of at least this many bytes get their own zeroed mapping, on
 * huge pages where the kernel offers them (a 48 MiB matrix of attention
 * weights is then 24 page faults, not 12,288). */
#define TENSOR_MAP_MIN_BYTES ((size_t)4 << 20)
#define TENSOR_MAP_ALIGN ((size_t)2 << 20)
/* Freed tensor mappings tensor.c keeps for the next tensors of the same
 * length (a trace built again: --bench's runs, a recomputed trace), at
 * most this many and this many bytes: reusing them skips the kernel's
 * zeroing of fresh pages. */
#define TENSOR_CACHE_SLOTS 64
#define TENSOR_CACHE_MAX_BYTES ((size_t)1 << 30)

/* The most tensors a Trace owns (the article's walk keeps 32). */
#define TRACE_MAX_VALUES 64

/* The most changes one trace runs under (--set and the other experiment
 * flags, a lesson's experiment: line); each is a small fixed record. */
#define EXPERIMENT_MAX 16

/* Room for one change's canonical spelling, NUL included: a set= with a
 * 31-byte name, four indices and a value fits. */
#define EXPERIMENT_SPEC_BYTES 128

/* Largest JSON text json_parse reads (vocab.json, a safetensors header,
 * config.json): 64 MiB. GPT-2's vocab.json is about 1 MB; the
 * safetensors format itself caps its header at 100 MB, but a real header
 * for GPT-2 XL is under 100 kB. */
#define LIMIT_JSON_MAX_BYTES (64 * 1024 * 1024)

/* Deepest nesting of arrays and objects json_parse accepts. A safetensors
 * header needs 3, a config.json a few; the limit keeps a hostile file from
 * exhausting the stack of the recursive parser. */
#define LIMIT_JSON_MAX_DEPTH 64
/* Largest safetensors header (the JSON text after the 8-byte length):
 * 16 MiB. GPT-2 XL's header takes about 60 kB; the format itself allows
 * up to 100 MB, which would only ever be a hostile file here. */
#define LIMIT_SAFETENSORS_HEADER_BYTES (16 * 1024 * 1024)

/* Most tensors one safetensors file may list. GPT-2 XL has about 580. */
#define LIMIT_SAFETENSORS_TENSORS 65536

/* Most dimensions a tensor of a safetensors file may have (GPT-2's
 * attention mask buffers are [1, 1, 1024, 1024]). */
#define LIMIT_SAFETENSORS_MAX_RANK 8

/* Most layers a GPT-2-layout checkpoint may have (GPT-2 XL has 48). */
#define LIMIT_MAX_LAYERS 256

/* Longest word (bytes of one word of GPT-2's pre-split) whose merges
 * bpe_replay records pass by pass. Its states take up to n(n+1)/2 ids, 2 MB
 * at this length; a real word is rarely longer than 20 bytes. Longer words
 * are still encoded, only not replayed. */
#define LIMIT_BPE_REPLAY_BYTES 1024

#endif

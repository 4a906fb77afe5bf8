#!/bin/sh
# npy_test.sh - NumPy interop end to end: --export-npy writes the files a
# learner expects, --weights reads an export straight back to the same
# trace, numpy (when it can be imported) reads the same values as --json,
# and every bad directory or file gives one line and its exit status.
#
#   tests/npy_test.sh build/attn-trace
#
# Prints TAP-style "ok N - ..." / "not ok N - ..." lines, then
# "npy: N passed, M failed"; exits 1 when any check failed. Needs POSIX sh
# and the usual tools; the numpy checks need /usr/bin/python3 with numpy
# (Debian: python3-numpy), without which they are skipped, except under
# CI (CI set), where that is a failure.

BIN=${1:-build/attn-trace}
case $BIN in
    /*) ;;
    *) BIN=$(pwd)/$BIN ;;
esac
if [ ! -x "$BIN" ]; then
    echo "npy_test.sh: $BIN is not an executable (build it with make build-bin)" >&2
    exit 2
fi

LC_ALL=C
export LC_ALL

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-npy-test.XXXXXX") || exit 2
cleanup() {
    chmod -R u+rwx "$TMP" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

OUT=$TMP/out
ERR=$TMP/err

. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/cli_lib.sh"

# check DESCRIPTION PROBLEMS: ok when PROBLEMS is empty.
check() {
    if [ -z "$2" ]; then ok "$1"; else not_ok "$1" "$2"; fi
}

# without_formulas FILE: the JSON without its "formula" lines, which say
# where the weights came from.
without_formulas() {
    grep -v '^      "formula": ' "$1"
}

# ---------------------------------------------------------------------------
# Exporting the article's trace.

EXPORT=$TMP/article
run --export-npy "$EXPORT"
problems=""
[ "$status" -eq 0 ] || problems="exit status $status"
[ -s "$OUT" ] && problems="$problems; stdout is not empty"
grep -qx "attn-trace: wrote 33 .npy files (16.9 KiB) to $EXPORT" "$ERR" ||
    problems="$problems; stderr: $(cat "$ERR")"
check "--export-npy writes 33 files and says so in one line on stderr" "$problems"

EXPECTED="multi_head.attention_weights.npy multi_head.concat_heads.npy multi_head.head_outputs.npy
multi_head.keys.npy multi_head.multihead_output.npy multi_head.queries.npy multi_head.scores.npy
multi_head.sentence_embed.npy multi_head.values.npy multi_head.w_key.npy multi_head.w_output.npy
multi_head.w_query.npy multi_head.w_value.npy single_head.a1.npy single_head.attention_weights.npy
single_head.embedding.npy single_head.key_1.npy single_head.keys.npy single_head.queries.npy
single_head.query_1.npy single_head.scaled_scores_1.npy single_head.scores.npy single_head.scores_1.npy
single_head.sentence_embed.npy single_head.tokenized_sentence.npy single_head.value_1.npy
single_head.values.npy single_head.w_key.npy single_head.w_query.npy single_head.w_value.npy
single_head.x_1.npy single_head.z.npy single_head.z1.npy"
got=$(cd "$EXPORT" && ls -A | tr '\n' ' ')
want=$(printf '%s\n' $EXPECTED | tr '\n' ' ')
check "the file names are <part>.<tensor>.npy, nothing else in the directory" \
    "$([ "$got" = "$want" ] || printf 'got: %s' "$got")"

problems=""
for f in "$EXPORT"/*.npy; do
    magic=$(head -c 10 "$f" | od -An -tx1 | tr -d ' \n')
    case $magic in
        934e554d505901007600) ;; # \x93NUMPY, version 1.0, a 118-byte header: the data at byte 128
        *) problems="$problems $(basename "$f"):$magic" ;;
    esac
done
# header DIR/FILE: the dictionary after the 10-byte preamble, with its padding and '\n'
header() {
    head -c 128 "$1" | tail -c 118
}
header "$EXPORT/single_head.tokenized_sentence.npy" | grep -qx "{'descr': '<i8', 'fortran_order': False, 'shape': (5,), } *" ||
    problems="$problems tokenized_sentence header: $(header "$EXPORT/single_head.tokenized_sentence.npy")"
header "$EXPORT/multi_head.w_query.npy" | grep -qx "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 16, 4), } *" ||
    problems="$problems multi_head.w_query header: $(header "$EXPORT/multi_head.w_query.npy")"
check "every file: version 1.0, data at byte 128; ids '<i8' (5,), w_query '<f4' (4, 16, 4)" "$problems"

# ---------------------------------------------------------------------------
# Reading an export back with --weights gives the same trace.

"$BIN" --json >"$TMP/plain.json"
run --weights "$EXPORT" --json
cp "$OUT" "$TMP/loaded.json"
problems=""
[ "$status" -eq 0 ] || problems="exit status $status: $(cat "$ERR")"
[ -s "$ERR" ] && problems="$problems; stderr: $(head -c 200 "$ERR")"
without_formulas "$TMP/plain.json" >"$TMP/a"
without_formulas "$TMP/loaded.json" >"$TMP/b"
cmp -s "$TMP/a" "$TMP/b" || problems="$problems; the JSON differs: $(diff "$TMP/a" "$TMP/b" | head -c 300)"
n=$(grep -c '^      "formula": .*loaded from ' "$TMP/loaded.json")
[ "$n" -eq 3 ] || problems="$problems; $n formulas say 'loaded from', expected 3 (embed, weights, mh_weights)"
[ "$(diff "$TMP/plain.json" "$TMP/loaded.json" | grep -c '^>')" -eq 3 ] || problems="$problems; more than the formulas differ"
check "--weights EXPORT --json equals --json, but for three formulas that say 'loaded from'" "$problems"

run --weights "$EXPORT" --export-npy "$TMP/again"
problems=""
[ "$status" -eq 0 ] || problems="exit status $status: $(cat "$ERR")"
for f in $EXPECTED; do
    cmp -s "$EXPORT/$f" "$TMP/again/$f" || problems="$problems $f"
done
check "export, read back with --weights, export again: every file byte for byte the same" "$problems"

# A larger trace: 20 words, d_model 64, 4 heads, causal, token 3.
WORDS="the quick brown fox jumps over the lazy dog while the small cat sleeps under a warm and sunny window"
BIGDIR=$TMP/big
"$BIN" --sentence "$WORDS" --d-model 64 --heads 4 --causal --focus 3 --json >"$TMP/big.json"
run --sentence "$WORDS" --d-model 64 --heads 4 --causal --focus 3 --export-npy "$BIGDIR"
problems=""
[ "$status" -eq 0 ] || problems="export: exit status $status: $(cat "$ERR")"
# the sizes come from the files: no --d-model or --heads
run --sentence "$WORDS" --causal --focus 3 --weights "$BIGDIR" --json
[ "$status" -eq 0 ] || problems="$problems; --weights: exit status $status: $(cat "$ERR")"
without_formulas "$TMP/big.json" >"$TMP/a"
without_formulas "$OUT" >"$TMP/b"
cmp -s "$TMP/a" "$TMP/b" || problems="$problems; the JSON differs: $(diff "$TMP/a" "$TMP/b" | head -c 300)"
check "20 words, d_model 64, 4 heads: the round trip, sizes taken from the files" "$problems"

# One step only.
run --export-npy "$TMP/one" --step softmax
got=$(cd "$TMP/one" 2>/dev/null && ls -A | tr '\n' ' ')
check "--export-npy with --step: only that step's tensors" \
    "$([ "$status" -eq 0 ] && [ "$got" = "single_head.a1.npy single_head.scaled_scores_1.npy " ] || printf 'status %s, files: %s' "$status" "$got")"

# The inspector says where a loaded value came from.
run --weights "$EXPORT" --dump-screen - --step weights --keys '<Enter>'
check "the inspector: read from single_head.w_key.npy (--weights)" \
    "$(grep -q 'read from single_head.w_key.npy (--weights)' "$OUT" || printf 'status %s: %s' "$status" "$(head -c 300 "$ERR")")"

# ---------------------------------------------------------------------------
# numpy reads what --json shows.

cat >"$TMP/compare.py" <<'EOF'
import json, os, sys
import numpy as np
directory, json_path = sys.argv[1], sys.argv[2]
doc = json.load(open(json_path))
seen = {}
for step in doc["steps"]:
    for t in step["tensors"]:
        seen.setdefault(step["part"] + "." + t["name"], t)
files = sorted(f[:-4] for f in os.listdir(directory))
assert files == sorted(seen), "files %s, JSON tensors %s" % (files, sorted(seen))
for key, t in seen.items():
    arr = np.load(os.path.join(directory, key + ".npy"), allow_pickle=False)
    integer = key == "single_head.tokenized_sentence"
    want_dtype = np.dtype("<i8") if integer else np.dtype("<f4")
    assert arr.dtype == want_dtype, "%s: dtype %s" % (key, arr.dtype)
    assert list(arr.shape) == t["shape"], "%s: shape %s, JSON %s" % (key, arr.shape, t["shape"])
    # JSON numbers read back as the same float32; "-inf" is a masked score
    want = np.array([float(v) for v in t["data"]], dtype=np.float64 if integer else np.float32).reshape(t["shape"])
    assert np.array_equal(arr, want.astype(arr.dtype)), "%s: values differ" % key
print("%d files" % len(seen))
EOF
if /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1; then
    for pair in "$EXPORT $TMP/plain.json" "$BIGDIR $TMP/big.json"; do
        set -- $pair
        if /usr/bin/python3 "$TMP/compare.py" "$1" "$2" >"$TMP/py" 2>&1; then
            ok "numpy loads every file of $(basename "$1"): dtype, shape and values equal to --json ($(cat "$TMP/py"))"
        else
            not_ok "numpy loads every file of $(basename "$1"): dtype, shape and values equal to --json" "$(tail -5 "$TMP/py")"
        fi
    done
    # numpy's own files, written by np.save, read back with --weights
    NPDIR=$TMP/numpy
    mkdir "$NPDIR"
    if /usr/bin/python3 - "$NPDIR" >"$TMP/py" 2>&1 <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
np.save(d + "/single_head.embedding.npy", rng.standard_normal((12, 8)).astype(np.float32))
np.save(d + "/multi_head.w_query.npy", rng.random((2, 8, 4), dtype=np.float32))
np.save(d + "/notes.npy", np.zeros(3))  # not a weight's name: ignored
EOF
    then
        run --token-ids "1 5 11" --weights "$NPDIR" --json
        problems=""
        [ "$status" -eq 0 ] || problems="exit status $status: $(cat "$ERR")"
        grep -q '"vocab_size": 12,' "$OUT" && grep -q '"d_model": 8,' "$OUT" && grep -q '"heads": 2,' "$OUT" ||
            problems="$problems; the sizes were not taken from the files"
        check "np.save's files read by --weights: vocab 12, d_model 8 and 2 heads from them" "$problems"
    else
        not_ok "np.save's files read by --weights" "$(tail -5 "$TMP/py")"
    fi
elif [ -n "${CI:-}" ]; then
    not_ok "numpy checks" "/usr/bin/python3 cannot import numpy (CI installs python3-numpy)"
else
    ok "numpy checks # SKIP /usr/bin/python3 cannot import numpy (Debian: python3-numpy)"
fi

# ---------------------------------------------------------------------------
# Bad weight files, made by hand from the exported ones (no numpy needed):
# the header is text, so a dtype or a flag can be changed in place.

KEY=$EXPORT/single_head.w_key.npy
# mkbad DIR SED: DIR/single_head.w_key.npy with SED applied to its header.
mkbad() {
    mkdir -p "$1"
    { head -c 128 "$KEY" | sed "$2"; tail -c +129 "$KEY"; } >"$1/single_head.w_key.npy"
}
mkbad "$TMP/f64" "s/<f4/<f8/"
mkbad "$TMP/be" "s/<f4/>f4/"
mkbad "$TMP/fortran" "s/False/True /"
mkdir "$TMP/shape" "$TMP/trunc" "$TMP/nothing"
cp "$EXPORT/single_head.embedding.npy" "$TMP/shape/"
{ head -c 128 "$KEY" | sed 's/(16, 16)/(8, 8)  /'; tail -c +129 "$KEY" | head -c 256; } >"$TMP/shape/single_head.w_key.npy"
head -c 600 "$KEY" >"$TMP/trunc/single_head.w_key.npy"
: >"$TMP/nothing/other.npy"
: >"$TMP/plainfile"

bad 65 "$TMP/f64/single_head.w_key.npy: float64 data ('<f8')" "a float64 file: says so" -- --weights "$TMP/f64" --json
bad 65 "arr.astype(np.float32)" "a float64 file: suggests arr.astype(np.float32)" -- --weights "$TMP/f64" --json
bad 65 "big-endian float32 data ('>f4')" "a big-endian file" -- --weights "$TMP/be" --json
bad 65 "Fortran (column-major) order" "a Fortran-order file" -- --weights "$TMP/fortran" --json
bad 65 "single_head.w_key.npy: shape (8, 8), but d_model 16 (from single_head.embedding.npy) needs (16, 16)" \
    "a wrong shape: the file's shape and the one needed" -- --weights "$TMP/shape" --json
bad 65 "single_head.embedding.npy: shape (10, 16), but vocab_size 10 (from single_head.embedding.npy) and d_model 32 (from --d-model) need (10, 32)" \
    "--d-model given and different from the files" -- --weights "$EXPORT" --d-model 32 --json
bad 65 "10 rows, but token id 12 (token 2) is not below that" "a token id not below the embedding's rows" -- \
    --token-ids "1 12" --weights "$EXPORT" --json
bad 65 "single_head.w_key.npy: truncated" "a truncated file" -- --weights "$TMP/trunc" --json
bad 65 "over the 1.0 KiB cap; --max-memory" "the memory guard still applies" -- --weights "$EXPORT" --max-memory 1K --json
bad 66 "$TMP/missing: cannot open" "--weights DIR missing" -- --weights "$TMP/missing" --json
bad 66 "$TMP/plainfile: not a directory" "--weights DIR a regular file" -- --weights "$TMP/plainfile" --json
bad 66 "no weight files there; expected one or more of single_head.embedding.npy" "--weights DIR with no known file" -- \
    --weights "$TMP/nothing" --json
bad 2 "--weights: needs a directory" "--weights with an empty name" -- --weights ""

# ---------------------------------------------------------------------------
# Export failures.

bad 1 "$TMP/plainfile: not a directory" "--export-npy DIR a regular file" -- --export-npy "$TMP/plainfile"
bad 1 "$TMP/no/such: cannot create the directory" "--export-npy DIR whose parent is missing" -- --export-npy "$TMP/no/such"
bad 2 "--export-npy cannot be used with --json" "--export-npy with --json" -- --json --export-npy "$TMP/x"
bad 2 "--export-npy: needs a directory" "--export-npy with an empty name" -- --export-npy=
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$TMP/readonly"
    chmod 555 "$TMP/readonly"
    bad 1 "cannot write: Permission denied" "--export-npy DIR not writable" -- --export-npy "$TMP/readonly"
elif [ -d /sys ] && ! { touch /sys/.attn-npy-probe 2>/dev/null && rm -f /sys/.attn-npy-probe; }; then
    # root writes anywhere a mode allows; sysfs refuses new files even to root
    bad 1 "/sys/single_head.tokenized_sentence.npy: cannot write" "--export-npy DIR not writable (/sys, as root)" -- \
        --export-npy /sys
else
    ok "--export-npy DIR not writable # SKIP running as root with no unwritable directory"
fi

# A file that cannot be renamed into place: the files before it are whole,
# it is not there, and no temporary file is left.
mkdir -p "$TMP/blocked/single_head.embedding.npy"
run --export-npy "$TMP/blocked"
problems=""
[ "$status" -eq 1 ] || problems="exit status $status"
grep -q "single_head.embedding.npy: cannot write" "$ERR" || problems="$problems; stderr: $(cat "$ERR")"
leftovers=$(cd "$TMP/blocked" && ls -A | grep -c 'tmp$')
[ "$leftovers" -eq 0 ] || problems="$problems; $leftovers temporary files left"
cmp -s "$TMP/blocked/single_head.tokenized_sentence.npy" "$EXPORT/single_head.tokenized_sentence.npy" ||
    problems="$problems; the file written before is not whole"
check "a failed write leaves no temporary file and nothing half-written" "$problems"

echo "npy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

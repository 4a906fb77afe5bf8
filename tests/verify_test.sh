#!/bin/sh
# verify_test.sh - runs the scripts attn-trace --export-py writes, with
# real PyTorch, against the .npy files --export-npy writes for the same
# trace: the article's trace, the shipped lessons, a causal trace, a trace
# with --weights, one on the fast kernels and model traces (--model, on the
# F32, F16 and BF16 fixture checkpoints, at layer 0 and later) must each
# print "verify: N tensors equal to attn-trace's, ..." and exit 0; a script
# with one number of the article's code or of the GPT-2 code changed must
# exit 1 naming the tensor that number makes. PyTorch is the independent reference here: the script
# computes every tensor itself, attn-trace only supplies the files.
#
#   tests/verify_test.sh build/attn-trace
#
# Prints TAP-style "ok N - ..." / "not ok N - ..." lines, then
# "verify: N passed, M failed"; exits 1 when any check failed. When
# /usr/bin/python3 cannot import torch (Debian: python3-torch) it says so
# and exits 77 (skipped), which fails the run under CI, where .ci/run
# installs it.

BIN=${1:-build/attn-trace}
case $BIN in
    */*) ;;
    *) BIN=$(pwd)/$BIN ;;
esac
case $BIN in
    /*) ;;
    *) BIN=$(pwd)/$BIN ;;
esac
if [ ! -x "$BIN" ]; then
    echo "verify_test.sh: $BIN is not an executable (build it with make build-bin)" >&2
    exit 2
fi
PYTHON=${ATTN_PYTHON:-/usr/bin/python3}
# The scripts check that torch runs on the reference BLAS (Debian's
# libblas3), whose products are the ones attn-trace's match bit for bit;
# a machine where OpenBLAS took libblas.so.3 would fail every one. Put the
# reference BLAS first, as a user would (the scripts' own error says so).
REFERENCE_BLAS=/usr/lib/x86_64-linux-gnu/blas
if [ -e "$REFERENCE_BLAS/libblas.so.3" ]; then
    LD_LIBRARY_PATH=$REFERENCE_BLAS:/usr/lib/x86_64-linux-gnu/lapack${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export LD_LIBRARY_PATH
fi
HERE=$(cd "$(dirname "$0")" && pwd)
LESSONS="$HERE/../lessons"

. "$HERE/tap.sh"

if ! "$PYTHON" -c 'import torch, numpy' >/dev/null 2>&1; then
    echo "verify: skipped: $PYTHON cannot import torch and numpy (Debian: python3-torch);"
    echo "verify: skipped: the exported PyTorch scripts were NOT run"
    exit 77
fi

LC_ALL=C
export LC_ALL
TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-verify-test.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 2

# PyTorch takes seconds to start, so every script runs in one Python
# process, after all are written: queue NAME SCRIPT [DIR] adds one to the
# batch, run_queue runs them (runpy, as "python3 SCRIPT [DIR]" would), and
# leaves NAME.out (the script's stdout and stderr) and NAME.status.
: >queue.txt
queue() {
    printf '%s\t%s\t%s\n' "$1" "$2" "${3:-}" >>queue.txt
}
run_queue() {
    "$PYTHON" - queue.txt <<'PY'
import contextlib, io, runpy, sys
for line in open(sys.argv[1]).read().splitlines():
    name, script, directory = line.split("\t")
    sys.argv = [script] + ([directory] if directory else [])
    out, status = io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            runpy.run_path(script, run_name="__main__")
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 1
        except Exception as e:  # a script that breaks is a failure, not the end of the batch
            print("%s: %r" % (script, e))
            status = 3
    open(name + ".out", "w").write(out.getvalue())
    open(name + ".status", "w").write("%d\n" % status)
PY
}

# verifies NAME WANT ARGS...: exports trace NAME (the .npy files and the
# script, in one run) and queues the script without naming the directory;
# check_verified NAME WANT then checks its one line is WANT, status 0.
verifies() {
    name=$1 want=$2
    shift 2
    if ! "$BIN" "$@" --export-npy "$name.npy" --export-py "$name.py" 2>"$name.err"; then
        not_ok "$name: attn-trace $* --export-npy --export-py" "$(show "$name.err")"
        return
    fi
    queue "$name" "$name.py"
    printf '%s\t%s\n' "$name" "$want" >>verified.txt
}
check_verified() {
    name=$1 want=$2 status=$(cat "$1.status" 2>/dev/null)
    if [ "$status" = 0 ] && [ "$(cat "$name.out")" = "$want" ]; then
        ok "$name: $want"
    else
        not_ok "$name: the script says '$want', exit 0" "status $status: $(show "$name.out")"
    fi
}
: >verified.txt

EXACT="verify: 33 tensors equal to attn-trace's, bit for bit"
verifies article "$EXACT"
verifies causal "$EXACT" --causal --focus 3
verifies lesson-causal "$EXACT" "$LESSONS/causal-mask.lesson"
verifies lesson-multi "$EXACT" "$LESSONS/multi-head.lesson"
verifies lesson-sentence "$EXACT" "$LESSONS/your-sentence.lesson"
verifies ids "$EXACT" --token-ids "49 0 17 17 3 28" --vocab-size 50 --d-model 24 --heads 3 --focus 6 --seed 2024
verifies step "verify: 2 tensors equal to attn-trace's, bit for bit" --step softmax
verifies fast "verify: 33 tensors equal to attn-trace's, within rtol 0.0001, atol 0.0001 (fast kernels)" \
    --sentence "the cat sat on the mat" --d-model 32 --heads 8 --kernels fast
verifies lesson-conventions "$EXACT" "$LESSONS/conventions.lesson"

# Model traces: the script reads the same checkpoint itself. Layer 0 is bit
# for bit up to the next block's GELU; a later layer's block input already
# went through one, so only the embeddings and ln_1's weights are exact.
GPT2="$HERE/fixtures/gpt2"
IDS="5 17 3 60 42"
verifies model0 "verify: 28 tensors equal to attn-trace's, 25 bit for bit, 3 after a GELU within rtol 1e-05, atol 1e-05" \
    --model "$GPT2/d32_h4_l3_f32_prefix" --token-ids "$IDS" --layer 0
verifies model-bf16 "verify: 28 tensors equal to attn-trace's, 11 bit for bit, 17 after a GELU within rtol 1e-05, atol 1e-05" \
    --model "$GPT2/d32_h4_l3_bf16" --token-ids "$IDS" --layer 1
verifies model-f16 "verify: 28 tensors equal to attn-trace's, 11 bit for bit, 17 after a GELU within rtol 1e-05, atol 1e-05" \
    --model "$GPT2/d48_h3_l2_f16" --token-ids "$IDS" --layer 1
verifies model-step "verify: 2 tensors equal to attn-trace's, bit for bit" \
    --model "$GPT2/d16_h2_l2_f32" --token-ids "$IDS" --layer 0 --step gpt2_softmax
verifies model-prefix "verify: 28 tensors equal to attn-trace's, 25 bit for bit, 3 after a GELU within rtol 1e-05, atol 1e-05" \
    --model "$GPT2/d16_h2_l2_f16_prefix" --token-ids "$IDS" --layer 0

# --weights: some files given, the others drawn as usual.
mkdir mine
"$PYTHON" - <<'PY'
import numpy as np
rng = np.random.default_rng(1)
np.save("mine/single_head.embedding.npy", rng.standard_normal((6, 8)).astype(np.float32))
np.save("mine/single_head.w_query.npy", np.eye(8, dtype=np.float32))
np.save("mine/multi_head.w_query.npy", rng.random((2, 8, 4), dtype=np.float32))
np.save("mine/multi_head.w_output.npy", rng.standard_normal((8, 8)).astype(np.float32))
PY
verifies weights "$EXACT" --sentence "the cat sat on the mat" --weights mine
if grep -c '"[a-z_]*\.[a-z_]*": os.fsdecode(b".*/mine/' weights.py | grep -qx 4; then
    ok "weights: the script loads the four files the trace read"
else
    not_ok "weights: the script loads the four files the trace read" "$(grep -A6 '^LOADED' weights.py)"
fi

# The script, named explicitly, checks another directory: a trace of
# another seed fails on the first tensor drawn.
"$BIN" --seed 1 --export-npy seed1.npy 2>/dev/null
queue seed1 article.py seed1.npy

# edit N FROM TO [SCRIPT]: queues edited-N, SCRIPT (article.py by default)
# with the text FROM changed to TO; fails_on N WHAT TENSOR then checks it
# exited 1 naming TENSOR first.
edit() {
    sed "s|$2|$3|" "${4:-article.py}" >"edited-$1.py"
    echo "${4:-article.py}" >"edited-$1.src"
    queue "edited-$1" "edited-$1.py"
}
fails_on() {
    status=$(cat "edited-$1.status" 2>/dev/null)
    case $(cat "edited-$1.out" 2>/dev/null) in
        "verify: FAILED: $3 differs at "*) named=true ;;
        *) named=false ;;
    esac
    if cmp -s "$(cat "edited-$1.src")" "edited-$1.py"; then
        not_ok "$2: the edit changed nothing in the script"
    elif $named && [ "$status" = 1 ]; then
        ok "$2: fails naming $3"
    else
        not_ok "$2: fails naming $3" "status $status: $(show "edited-$1.out")"
    fi
}
edit 1 'scaled_scores_n = scores_n / d \*\* 0.5' 'scaled_scores_n = scores_n / d ** 0.51'
edit 2 '/ d_k \*\* 0.5' '/ d_k ** 0.49'
edit 3 '^SEED = 0$' 'SEED = 1'
edit 4 '^TOKEN_IDS = \[2, 6, 8, 3, 1\]' 'TOKEN_IDS = [2, 6, 8, 4, 1]'
edit 5 'k.transpose(-1, -2)) / scale)' 'k.transpose(-1, -2)) / (scale * 1.001))' model0.py
edit 6 '^LAYER = 0 ' 'LAYER = 1 ' model0.py
edit 7 '^TOKEN_IDS = \[5, 17, 3, 60, 42\]' 'TOKEN_IDS = [5, 17, 3, 61, 42]' model0.py

# A missing directory is one FAILED line, exit 1.
queue nowhere article.py "$TMP/nowhere"

# The PyTorch line every step shows (--print's "PyTorch:" lines), run in
# order, computes that step's tensors, bit for bit equal to the .npy files.
"$BIN" --print >lines.txt 2>/dev/null
cat >lines.py <<'PY'
import glob, os, sys
import numpy as np
import torch
import torch.nn.functional as F
directory, lines = "article.npy", open("lines.txt").read().splitlines()
ids = [2, 6, 8, 3, 1]
env = {"torch": torch, "F": F, "seed": 0, "token_ids": ids, "vocab_size": 10, "d": 16, "h": 4,
       "d_k": 4, "s": len(ids)}
part, steps, checked = None, 0, 0
def compare(part):
    global checked
    for path in glob.glob(os.path.join(directory, part + ".*.npy")):
        name = os.path.basename(path)[len(part) + 1:-4]
        mine = torch.from_numpy(np.load(path))
        got = env[name]
        same = (mine.view(torch.int32) == got.view(torch.int32)).all() if got.dtype == torch.float32 \
            else (mine == got).all()
        assert bool(same), "%s.%s differs" % (part, name)
        checked += 1
# --print writes one statement a line, the later ones indented under the
# first: join them back into one line of Python.
joined = []
for line in lines:
    if line.startswith("           ") and joined and joined[-1].startswith("  PyTorch: "):
        joined[-1] += " " + line.strip()
    else:
        joined.append(line)
for line in joined:
    if line.startswith("== Step "):
        new = line.split("(")[-1].split(")")[0]
        if part is not None and new != part:
            compare(part)
        part = new
    elif line.startswith("  PyTorch: "):
        exec(line[len("  PyTorch: "):], env)
        steps += 1
compare(part)
print("lines: %d steps' lines give %d tensors equal to attn-trace's" % (steps, checked))
PY
queue lines lines.py

# Every script, in one Python; then the verdicts.
run_queue
while IFS="$(printf '\t')" read -r name want; do
    check_verified "$name" "$want"
done <verified.txt

case $(cat seed1.out) in
    "verify: FAILED: single_head.embedding differs at [0, 0]: "*) seed1=true ;;
    *) seed1=false ;;
esac
if $seed1 && [ "$(cat seed1.status)" = 1 ]; then
    ok "another seed's files fail on single_head.embedding"
else
    not_ok "another seed's files fail on single_head.embedding" "status $(cat seed1.status): $(show seed1.out)"
fi
fails_on 1 "part 1 scaled by d ** 0.51" single_head.scaled_scores_1
fails_on 2 "part 2 scaled by d_k ** 0.49" multi_head.scores
fails_on 3 "the seed 0 made 1" single_head.embedding
fails_on 4 "token 3 made 4" single_head.tokenized_sentence
fails_on 5 "GPT-2's scores divided by 1.001 sqrt(d_k)" model.scores
fails_on 6 "the model's layer 0 made 1" model.block_input
fails_on 7 "the model's token 60 made 61" model.token_ids
if [ "$(cat nowhere.status)" = 1 ] && grep -q '^verify: FAILED: .*nowhere is not a directory' nowhere.out; then
    ok "a missing directory: one FAILED line, exit 1"
else
    not_ok "a missing directory: one FAILED line, exit 1" "status $(cat nowhere.status): $(show nowhere.out)"
fi
if [ "$(cat lines.status)" = 0 ] &&
    [ "$(cat lines.out)" = "lines: 17 steps' lines give 33 tensors equal to attn-trace's" ]; then
    ok "the 17 PyTorch lines --print shows compute the 33 tensors, bit for bit"
else
    not_ok "the 17 PyTorch lines --print shows compute the 33 tensors, bit for bit" \
        "status $(cat lines.status): $(show lines.out)"
fi

echo "verify: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# completion_test.sh - the bash completion (src/cli/attn-trace.bash-completion),
# driven as bash drives it: COMP_WORDS and COMP_CWORD set, the function
# called, COMPREPLY checked.
#
#   tests/completion_test.sh build/attn-trace
#
# Prints TAP-style lines, then "completion: N passed, M failed"; exits 1
# when any check failed. (That every option is offered is checked by
# tests/docs_test.sh, against src/cli/cli.c.)

BIN=${1:-build/attn-trace}
if [ ! -x "$BIN" ]; then
    echo "completion_test.sh: $BIN is not an executable (build it with make build-bin)" >&2
    exit 2
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-completion-test.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

. tests/tap.sh

# (compopt, which the completion calls, only complains outside a real
# completion; the function silences it.)
. src/cli/attn-trace.bash-completion

export XDG_STATE_HOME=$TMP/state HOME=$TMP/home LC_ALL=C
unset ATTN_TRACE_LESSONS
mkdir -p "$TMP/state" "$TMP/home"

# complete WORD...: completes the last WORD of the command line WORD...,
# leaving the candidates, sorted, one a line, in $got.
complete_line() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _attn_trace 2>/dev/null
    got=$(printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort)
}

# expect DESCRIPTION WANT WORD...: the candidates for WORD... are exactly
# WANT (words separated by spaces; "" for none).
expect() {
    local desc=$1 want
    want=$(printf '%s\n' $2 | LC_ALL=C sort)
    shift 2
    complete_line "$@"
    if [ "$got" = "$want" ]; then
        ok "$desc"
    else
        not_ok "$desc" "wanted: $(echo $want)" "got:    $(echo $got)"
    fi
}

# has DESCRIPTION CANDIDATE WORD...: the candidates include CANDIDATE
# (hasnt: do not include it).
has() {
    local desc=$1 want=$2
    shift 2
    complete_line "$@"
    if printf '%s\n' "$got" | grep -qxF -- "$want"; then
        ok "$desc"
    else
        not_ok "$desc" "no '$want' in: $(echo $got | head -c 400)"
    fi
}
hasnt() {
    local desc=$1 want=$2
    shift 2
    complete_line "$@"
    if printf '%s\n' "$got" | grep -qxF -- "$want"; then
        not_ok "$desc" "'$want' offered: $(echo $got | head -c 400)"
    else
        ok "$desc"
    fi
}

if complete -p attn-trace 2>/dev/null | grep -q -- '-F _attn_trace attn-trace'; then
    ok "sourcing it registers _attn_trace for attn-trace"
else
    not_ok "sourcing it registers _attn_trace for attn-trace" "$(complete -p attn-trace 2>&1)"
fi

# Options.
expect "--th completes to --theme and --threads" "--theme --threads" attn-trace --th
expect "--no- completes to --no-answers, --no-color, --no-lesson and the changes --no-mask, --no-positions, --no-scale" \
    "--no-answers --no-color --no-lesson --no-mask --no-positions --no-scale" attn-trace --no-
expect "--dump completes to --dump-screen" "--dump-screen" attn-trace --dump
expect "--bench completes to --bench and --bench-frames" "--bench --bench-frames" attn-trace --bench
expect "--x completes to nothing" "" attn-trace --x

# Values from a fixed set.
expect "--theme offers default, presenter and colorblind" "default presenter colorblind" attn-trace --theme ""
expect "--theme c completes to colorblind" "colorblind" attn-trace --theme c
expect "--theme p completes to presenter" "presenter" attn-trace --theme p
expect "--kernels offers auto, fast and reference" "auto fast reference" attn-trace --kernels ""
expect "--kernels r completes to reference" "reference" attn-trace --kernels r
# --step: the ids and numbers the program lists (--list-steps), which are
# those of the tests' own list.
steps=$(grep -v '^#' "$ROOT/tests/steps.expected" | cut -f1,2 | tr '\t' '\n')
n_steps=$(grep -vc '^#' "$ROOT/tests/steps.expected")
ones=$(seq 1 "$n_steps" | grep '^1')
expect "--step offers the $n_steps ids and the numbers 1 to $n_steps" "$steps" "$BIN" --step ""
expect "--step mh_s completes to mh_scores and mh_softmax" "mh_scores mh_softmax" "$BIN" --step mh_s
expect "--step 1 completes to the numbers starting with 1" "$ones" "$BIN" --step 1
expect "--precision offers 0 to 9" "0 1 2 3 4 5 6 7 8 9" attn-trace --precision ""
expect "--step=so (split at '=' by bash) completes to softmax" "softmax" "$BIN" --step = so
expect "--step= (split at '=') offers every step" "$steps" "$BIN" --step =
expect "--step=mh_c as one word completes to --step=mh_concat" "--step=mh_concat" "$BIN" --step=mh_c
expect "--step with attn-trace not found offers nothing" "" /nonexistent/attn-trace --step ""
# a program whose list holds something other than plain words: only the
# plain ones are offered, and nothing in the others runs
cat >"$TMP/fake-trace" <<'FAKE'
#!/bin/sh
[ "$1" = --list-steps ] || exit 2
printf '1\t$(touch pwned)\tA\n2\tok_id\tB\nx\tnot_numbered\tC\n3\t`touch pwned`\tD\n'
FAKE
chmod +x "$TMP/fake-trace"
expect "--step keeps only plain ids from --list-steps" "ok_id 2" "$TMP/fake-trace" --step ""
if [ ! -e pwned ] && [ ! -e "$TMP/pwned" ]; then
    ok "completing --step runs nothing the program lists"
else
    not_ok "completing --step runs nothing the program lists" "a file 'pwned' was created"
fi
expect "--kernels=f as one word completes to --kernels=fast" "--kernels=fast" attn-trace --kernels=f
expect "--theme after another option's value" "presenter" attn-trace --seed 3 --theme pr

# Free values: nothing to offer, and never an option or a lesson.
for opt in --sentence --token-ids --seed --d-model --heads --focus --vocab-size --keys --autoplay \
    --max-memory --tokens --bench --threads; do
    expect "$opt takes free text: nothing offered" "" attn-trace "$opt" ""
done

# File and directory names.
mkdir -p "$TMP/work/sub" "$TMP/work/npy"
: >"$TMP/work/sentence.txt"
: >"$TMP/work/my.lesson"
: >"$TMP/work/notes.md"
cd "$TMP/work" || exit 2
expect "--sentence-file offers files and directories" "my.lesson notes.md npy sentence.txt sub" attn-trace --sentence-file ""
expect "--svg s offers files starting with s" "sentence.txt sub" attn-trace --svg s
expect "--dump-screen n offers notes.md and npy" "notes.md npy" attn-trace --dump-screen n
expect "--export-npy offers directories only" "npy sub" attn-trace --export-npy ""
expect "--weights n offers the directory npy" "npy" attn-trace --weights n
: >"$TMP/work/a b.txt"
has "--sentence-file offers a file name with a space, whole" "a b.txt" attn-trace --sentence-file a

# LESSON: *.lesson files, directories, and the lessons the program finds.
# --list-lessons names each lesson directory in a heading; the completion
# reads the *.lesson files there. Names that would be expanded by compgen
# -W must come out as they are, and run nothing.
mkdir -p "$TMP/lessons"
cp "$ROOT/lessons/causal-mask.lesson" "$TMP/lessons/"
cp "$ROOT/lessons/causal-mask.lesson" "$TMP/lessons/\$(touch pwned).lesson"
cp "$ROOT/lessons/causal-mask.lesson" "$TMP/lessons/two words.lesson"
export ATTN_TRACE_LESSONS=$TMP/lessons
has "LESSON offers an installed lesson's name" causal-mask "$BIN" ""
has "LESSON offers the lessons beside the program (lessons/ in the tree)" multi-head "$BIN" ""
has "LESSON offers a *.lesson file in the current directory" my.lesson "$BIN" ""
has "LESSON offers a directory" npy "$BIN" ""
hasnt "LESSON does not offer other files" notes.md "$BIN" ""
has "LESSON offers a lesson whose name has a space, whole" "two words" "$BIN" ""
has "LESSON offers a lesson named \$(touch pwned) as it is" '$(touch pwned)' "$BIN" ""
if [ ! -e pwned ] && [ ! -e "$TMP/pwned" ]; then
    ok "completing a lesson name runs nothing in it"
else
    not_ok "completing a lesson name runs nothing in it" "a file 'pwned' was created"
fi
expect "LESSON c offers causal-mask and conventions" "causal-mask conventions" "$BIN" c
expect "LESSON after other options" "causal-mask conventions" "$BIN" --causal --seed 3 c
has "--check offers the installed lessons' names too" causal-mask "$BIN" --check ""
has "--check offers *.lesson files" my.lesson "$BIN" --check ""
expect "a path offers only files and directories there" "$TMP/lessons/causal-mask.lesson" "$BIN" "$TMP/lessons/ca"
unset ATTN_TRACE_LESSONS

# A program that cannot be run: files only, and no error.
expect "LESSON with attn-trace not found offers only files" "my.lesson" /nonexistent/attn-trace m

printf 'completion: %s passed, %s failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]

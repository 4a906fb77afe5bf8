#!/bin/sh
# bad_input_test.sh - feeds the real attn-trace binary every kind of bad
# input a learner can type or a teacher can write, and checks that it never
# crashes, hangs, eats the machine's memory or lets an escape sequence
# reach the terminal: sentences, numbers, lessons, saved progress, the
# headless screen and the terminal itself.
#
#   tests/bad_input_test.sh build/attn-trace
#
# Every run is wrapped in `timeout 60` (a hang is a failure) and a 4 GB
# address-space limit (`ulimit -v`), so a runaway allocation fails inside
# the program instead of taking the machine down. A row checks the exit
# status; on error that stdout is empty and stderr is exactly one line
# starting with "attn-trace: " (or with the file's name, for FILE:LINE:COL
# errors); and that neither stream holds a raw control character (C0 but
# newline, DEL, C1) or invalid UTF-8.
#
# Prints TAP-style "ok N - ..." / "not ok N - ..." lines, then
# "bad-input: N passed, M failed"; exits 1 when any check failed. The
# table runs in parts side by side (ATTN_TEST_JOBS at a time), printed in
# order and numbered as one run: see "Running the parts" at the end.
# Needs POSIX sh, timeout, od and awk; the rows that need a terminal use
# util-linux `script` and are skipped without it. Fixtures live in a
# mktemp directory; HOME and XDG_STATE_HOME point into it, so the user's
# saved progress is never touched.

BIN=${1:-build/attn-trace}
case $BIN in
    /*) ;;
    *) BIN=$(pwd)/$BIN ;;
esac
if [ ! -x "$BIN" ]; then
    echo "bad_input_test.sh: $BIN is not an executable (build it with make build-bin)" >&2
    exit 2
fi
if ! command -v timeout >/dev/null 2>&1; then
    echo "bad_input_test.sh: needs timeout(1) to catch hangs" >&2
    exit 2
fi

LC_ALL=C
export LC_ALL

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-bad-input.XXXXXX") || exit 2
cleanup() {
    # shellcheck disable=SC2086 # the lanes of "Running the parts", if any
    [ -z "${lanes:-}" ] || kill $lanes 2>/dev/null
    chmod -R u+rwx "$TMP" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

OUT=$TMP/out
ERR=$TMP/err

# Nothing a row does may touch the real home, state or lesson directories.
mkdir "$TMP/home" "$TMP/state" "$TMP/nolessons"
HOME=$TMP/home
XDG_STATE_HOME=$TMP/state
ATTN_TRACE_LESSONS=$TMP/nolessons
export HOME XDG_STATE_HOME ATTN_TRACE_LESSONS
unset NO_COLOR

LIMIT_KB=4000000 # ulimit -v: 4 GB of address space
# An AddressSanitizer build reserves terabytes of address space for its
# shadow memory, so under `make sanitize` (ATTN_SANITIZED=1) the address
# space is not limited, and the rows that rely on that limit are skipped.
SANITIZED=${ATTN_SANITIZED:-}

# timeout: a run longer than this is a hang. The slowest row (d-model 512,
# heads 256, --json) takes 3.5 s on an idle 2-core machine and 13 s on one
# loaded by other builds; a hang is told apart at 60 s, and at 180 s under
# make sanitize (where that row took 12 s loaded, and others slow more).
SECONDS_MAX=60
[ -z "${ATTN_SANITIZED:-}" ] || SECONDS_MAX=180

. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/cli_lib.sh"

# verdict DESCRIPTION PROBLEMS: ok when PROBLEMS is empty.
verdict() {
    if [ -z "$2" ]; then
        ok "$1"
    else
        not_ok "$1" "$2"
    fi
}
# add PROBLEM: appends to $problems, "; "-separated.
add() {
    [ -n "$1" ] && problems="$problems${problems:+; }$1"
}

# Why the status is not WANT, naming hangs and crashes; "" when it is.
status_problem() {
    if [ "$status" -eq "$2" ]; then
        return 0
    fi
    case $status in
    124) printf '%s\n' "timed out after ${SECONDS_MAX}s (a hang), expected status $2" ;;
    137) printf '%s\n' "killed (SIGKILL) after ignoring the timeout, expected status $2" ;;
    1[3-9][0-9] | 2[0-5][0-9]) printf '%s\n' "killed by signal $((status - 128)) (a crash), expected status $2" ;;
    *) printf '%s\n' "exit status $status, expected $2" ;;
    esac
}

# Why stderr holds anything but one-line "attn-trace: warning: " lines
# (allowed beside a success); "" when it does not.
warnings_problem() {
    [ -s "$1" ] || return 0
    if grep -v '^attn-trace: warning: ' "$1" >/dev/null; then
        printf '%s\n' "stderr has a line that is not an 'attn-trace: warning: ' line: $(show "$1")"
        return 0
    fi
    p=$(raw_problem "$1")
    [ -n "$p" ] && printf '%s\n' "stderr carries $p: $(show "$1")"
}

# run ARGS...: runs the binary under the time and memory limits, stdin
# from /dev/null, stdout to $OUT, stderr to $ERR, status in $status (it
# replaces cli_lib.sh's plain run, for every row of this script).
# $WITH holds env(1) arguments for this run (such as "TERM=dumb" or
# "-u TERM"); rows set it and reset it.
WITH=
run() {
    (
        # shellcheck disable=SC3045 # ulimit -v: dash, bash, busybox and ksh have it
        [ -n "$SANITIZED" ] || ulimit -v "$LIMIT_KB" 2>/dev/null
        set -f # WITH may hold a path with [ in it: split it, never glob it
        # shellcheck disable=SC2086 # WITH is a list of env arguments
        exec timeout -k 2 "$SECONDS_MAX" env $WITH "$BIN" "$@"
    ) </dev/null >"$OUT" 2>"$ERR"
    status=$?
}

# expect STATUS PART DESCRIPTION -- ARGS...: runs ARGS and checks the row.
# STATUS 0: a success: stdout not empty and clean, stderr empty or one-line
# warnings. Any other STATUS: an error: stdout empty, stderr one clean line
# containing PART (a fixed string; "" for any). A PART "^PREFIX" or
# "^PREFIX|TEXT" means the line starts with PREFIX (alone or after
# "attn-trace: ": a lesson's FILE:LINE:COL errors start with the file
# name) and contains TEXT.
expect() {
    want=$1
    part=$2
    desc=$3
    shift 4
    run "$@"
    problems=$(status_problem "$status" "$want")
    if [ "$want" -eq 0 ]; then
        [ -s "$OUT" ] || add "stdout is empty"
        add "$(warnings_problem "$ERR")"
        p=$(raw_problem "$OUT")
        [ -n "$p" ] && add "stdout carries $p"
    else
        [ -s "$OUT" ] && add "stdout is not empty ($(wc -c <"$OUT" | tr -d ' ') bytes: $(show "$OUT"))"
        prefix=""
        case $part in
        ^*)
            prefix=${part#^}
            part=""
            case $prefix in
            *"|"*)
                part=${prefix#*|}
                prefix=${prefix%%|*}
                ;;
            esac
            ;;
        esac
        add "$(stderr_problem "$ERR" "$prefix")"
        if [ -n "$prefix" ] && [ "$(head -c ${#prefix} "$ERR")" != "$prefix" ] &&
            [ "$(head -c $((${#prefix} + 12)) "$ERR")" != "attn-trace: $prefix" ]; then
            add "stderr does not start with \"$prefix\": $(show "$ERR")"
        fi
        if [ -n "$part" ] && ! grep -qF -e "$part" "$ERR"; then
            add "stderr lacks \"$part\": $(show "$ERR")"
        fi
    fi
    verdict "$desc" "$problems"
}

# stdout_has TEXT DESCRIPTION: the last run's stdout holds the fixed TEXT.
stdout_has() {
    if grep -qF -e "$1" "$OUT"; then
        ok "$2"
    else
        not_ok "$2" "stdout lacks \"$1\": $(show "$OUT")"
    fi
}

# Characters awkward to type in POSIX sh.
NL='
'
ESC=$(printf '\033')
BEL=$(printf '\007')
CSI8=$(printf '\302\233') # U+009B, the C1 control sequence introducer
FF=$(printf '\377')

# words N WORD: N copies of WORD, space-separated (no newline).
words() {
    awk -v n="$1" -v w="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s%s", (i ? " " : ""), w }'
}

# ===========================================================================
# Sentences.

S=$TMP/s
mkdir "$S"
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "w%d ", i; print "" }' >"$S/20000.txt"
awk 'BEGIN { for (i = 0; i < 5000; i++) printf "w%d ", i; print "" }' >"$S/5000.txt"
words 4096 a >"$S/4096.txt"
words 4097 a >"$S/4097.txt"
printf 'ab\000cd\n' >"$S/nul.txt"
printf 'my name\r\nis\r\n' >"$S/crlf.txt"
printf '\357\273\277my name\n' >"$S/bom.txt"
printf 'clean\n\033[2J\033[Hcleared\n' >"$S/esc.txt"
printf 'ok\nab\377\n' >"$S/utf8.txt"
# 1 MiB + 1 byte, and exactly 1 MiB (one word, then spaces).
{
    printf 'word'
    head -c 1048572 /dev/zero | tr '\0' ' '
} >"$S/1mib.txt"
{
    cat "$S/1mib.txt"
    printf ' '
} >"$S/1mib+1.txt"
printf 'x%0300d\n' 0 >"$S/longword.txt"
mkdir "$S/dir"
printf 'not a dir\n' >"$S/plain"
printf 'a b\n' >"$S/secret.txt"
if [ "$(id -u)" -eq 0 ]; then
    UNREADABLE=$S/plain/x # root reads any file; a path under a file fails for root too
else
    chmod 000 "$S/secret.txt"
    UNREADABLE=$S/secret.txt
fi

part_sentences() {
# (The rows of each part are not indented, to keep this table easy to diff.)
expect 65 "empty" "sentence: empty" -- --sentence ""
expect 65 "empty" "sentence: only spaces" -- --sentence "     "
expect 65 "empty" "sentence: only white space and newlines" -- --sentence "  ${NL}  ${NL}"
expect 65 "empty" "sentence: an empty --sentence-file" -- --sentence-file /dev/null
expect 65 "more than 4096" "sentence: a 20000-word --sentence-file is over the 4096-token limit" -- \
    --sentence-file "$S/20000.txt"
expect 65 "more than 4096" "sentence: a 5000-word --sentence-file is over the 4096-token limit" -- \
    --sentence-file "$S/5000.txt"
expect 65 "more than 4096" "sentence: 4097 words is one over the limit" -- --sentence-file "$S/4097.txt"
expect 65 "more than 4096" "sentence: a 20000-word --sentence argument" -- --sentence "$(words 20000 ab)"
expect 0 "" "sentence: exactly 4096 one-letter words at d-model 4, heads 1 (--print)" -- \
    --sentence-file "$S/4096.txt" --d-model 4 --heads 1 --print
expect 65 "invalid UTF-8" "sentence: invalid UTF-8 (0xFF)" -- --sentence "caf${FF} au lait"
expect 65 "invalid UTF-8" "sentence: an overlong encoding of '/' (C0 AF)" -- --sentence "$(printf 'a\300\257b')"
expect 65 "invalid UTF-8" "sentence: an overlong 3-byte NUL (E0 80 80)" -- --sentence "$(printf 'a\340\200\200b')"
expect 65 "invalid UTF-8" "sentence: a UTF-16 surrogate (ED A0 80)" -- --sentence "$(printf 'a\355\240\200b')"
expect 65 "invalid UTF-8" "sentence: a code point above U+10FFFF (F4 90 80 80)" -- \
    --sentence "$(printf 'a\364\220\200\200b')"
expect 65 "invalid UTF-8" "sentence: a sequence cut short at the end" -- --sentence "$(printf 'caf\303')"
expect 65 "invalid UTF-8" "sentence: a lone continuation byte" -- --sentence "$(printf 'a \200 b')"
expect 65 "control character" "sentence: a control character (0x01)" -- --sentence "$(printf 'a\001b')"
expect 65 "control character" "sentence: DEL (0x7F)" -- --sentence "$(printf 'a\177b')"
expect 65 "control character" "sentence: a backspace that would rewrite the line" -- \
    --sentence "$(printf 'abc\b\b\bxyz')"
expect 65 "control character" "sentence: ESC [2J (clear screen) is refused, not echoed" -- \
    --sentence "my ${ESC}[2J name"
expect 65 "control character" "sentence: OSC 0;title BEL (set the window title)" -- \
    --sentence "my ${ESC}]0;pwned${BEL} name"
expect 65 "control character" "sentence: C1 CSI (C2 9B) 2J" -- --sentence "my ${CSI8}2J name"
expect 65 "" "sentence: a lone 0x9B byte (8-bit CSI)" -- --sentence "$(printf 'my \2332J name')"
expect 65 "^$S/esc.txt:2:1: " "sentence: ESC [2J in a --sentence-file (FILE:LINE:COL)" -- --sentence-file "$S/esc.txt"
expect 65 "^$S/utf8.txt:2:3: " "sentence: invalid UTF-8 in a --sentence-file (FILE:LINE:COL)" -- \
    --sentence-file "$S/utf8.txt"
expect 65 "NUL" "sentence: a NUL byte via --sentence-file" -- --sentence-file "$S/nul.txt"
expect 0 "" "sentence: a CRLF --sentence-file works" -- --sentence-file "$S/crlf.txt" --step tokenize --print
stdout_has "token ids: 1 2 0" "sentence: CRLF line ends are white space (ids 1 2 0), no stray CR"
expect 0 "" "sentence: a CR inside --sentence is white space, not printed raw" -- \
    --sentence "$(printf 'my\rname')" --step 1 --print
expect 0 "" "sentence: a tab inside --sentence is white space, not printed raw" -- \
    --sentence "$(printf 'my\tname')" --step 1 --print
expect 0 "" "sentence: a newline inside --sentence is not printed raw in the header" -- \
    --sentence "my${NL}name" --step 1 --print
if [ "$status" -eq 0 ] && [ "$(grep -c '^sentence: ' "$OUT")" -eq 1 ] && grep -q '^token ids: 0 1$' "$OUT" &&
    [ "$(sed -n '/^sentence: /{n;p;}' "$OUT" | cut -c1-10)" = "token ids:" ]; then
    ok "sentence: the header's sentence stays on one line"
else
    not_ok "sentence: the header's sentence stays on one line" "$(head -n 4 "$OUT" | sed -n l | tr '\n' ' ')"
fi
expect 0 "" "sentence: a --sentence-file starting with a BOM works" -- --sentence-file "$S/bom.txt" --step 1 --print
stdout_has "token ids: 0 1" "sentence: the BOM is dropped from the file, not part of 'my'"
expect 0 "" "sentence: a --sentence starting with a BOM works" -- \
    --sentence "$(printf '\357\273\277my name')" --step 1 --print
stdout_has "token ids: 0 1" "sentence: the BOM is dropped from --sentence too, as from a file"
expect 65 "larger than 1048576" "sentence: a 1 MiB + 1 byte --sentence-file" -- --sentence-file "$S/1mib+1.txt"
expect 0 "" "sentence: a --sentence-file of exactly 1 MiB works" -- --sentence-file "$S/1mib.txt" --step 1 --print
expect 65 "larger than 1048576" "sentence: --sentence-file /dev/zero stops at the size limit" -- \
    --sentence-file /dev/zero
expect 65 "" "sentence: --sentence-file /dev/urandom stops at the size limit" -- --sentence-file /dev/urandom
expect 65 "longer than 256 bytes" "sentence: a 301-byte word" -- --sentence-file "$S/longword.txt"
expect 66 "$S/dir" "sentence: a directory as the --sentence-file" -- --sentence-file "$S/dir"
expect 66 "cannot open" "sentence: an unreadable --sentence-file" -- --sentence-file "$UNREADABLE"
expect 66 "cannot open" "sentence: a missing --sentence-file" -- --sentence-file "$S/missing.txt"
expect 66 "cannot open" "sentence: a --sentence-file path with ESC is not echoed raw" -- \
    --sentence-file "$S/no${ESC}[2Jsuch"
}

# ===========================================================================
# Numbers.

# Every numeric option against the same bad values. Only seed 0 and
# precision 0 are valid; --size is read by --dump-screen.
part_numbers() {
for flag in --d-model --heads --focus --seed --vocab-size --precision --autoplay --size; do
    case $flag in
    --size) mode="--dump-screen -" ;;
    *) mode="--print --step 1" ;;
    esac
    for value in 0 -1 18446744073709551616 1000000000000000000000000000000 four NaN inf 1e3 0x10 " 4" "4 " ""; do
        want=2
        case "$flag=$value" in
        --seed=0 | --precision=0) want=0 ;;
        esac
        # shellcheck disable=SC2086 # mode is two or three words
        expect "$want" "$flag" "numbers: $flag '$value'" -- $mode "$flag" "$value"
    done
done
}

# The rest of the numbers: other values, memory caps, divisibility, token ids.
part_sizes() {
expect 2 "--autoplay" "numbers: --autoplay 0x1p-1 (a hex float) is refused like other hex" -- \
    --autoplay 0x1p-1 --print --step 1
expect 2 "--max-memory" "numbers: --max-memory 0" -- --max-memory 0 --print
expect 2 "--max-memory" "numbers: --max-memory -1G" -- --max-memory -1G --print
expect 2 "--max-memory" "numbers: --max-memory 2^64" -- --max-memory 18446744073709551616 --print
expect 2 "--max-memory" "numbers: --max-memory 99999999999999999999G" -- --max-memory 99999999999999999999G --print
expect 2 "--max-memory" "numbers: --max-memory NaN" -- --max-memory NaN --print
expect 65 "cap" "numbers: --max-memory 1 (one byte) is too small for anything" -- --max-memory 1 --print

expect 65 "does not divide" "numbers: heads 4 not dividing d-model 10" -- --d-model 10 --heads 4 --print
expect 65 "does not divide" "numbers: heads 256 not dividing d-model 4095" -- --d-model 4095 --heads 256 --print
expect 65 "outside 1..5" "numbers: --focus 6 beyond the 5-token sentence" -- --focus 6 --print
expect 65 "outside 1..2" "numbers: --focus 4096 beyond a 2-word sentence" -- --sentence "a b" --focus 4096 --print
expect 65 "not below the vocabulary size 5" "numbers: a token id equal to --vocab-size" -- \
    --token-ids "0 5" --vocab-size 5 --print
expect 65 "not below the vocabulary size 5" "numbers: a token id above --vocab-size" -- \
    --token-ids "0 6" --vocab-size 5 --print
expect 65 "too large" "numbers: token id 2^31" -- --token-ids 2147483648 --print
expect 65 "too large" "numbers: token id 2^63" -- --token-ids 9223372036854775808 --print
expect 65 "too large" "numbers: token id 2^64" -- --token-ids 18446744073709551616 --print
expect 65 "too large" "numbers: token id 10^30" -- --token-ids 1000000000000000000000000000000 --print
expect 65 "token id" "numbers: token id -1" -- --token-ids "1 -1" --print
expect 65 "token id" "numbers: token id 1e3" -- --token-ids "1e3" --print
expect 65 "token id" "numbers: token id 0x10" -- --token-ids "0x10" --print
expect 0 "" "numbers: token id 262143 at --vocab-size 262144 (the limit) works" -- \
    --token-ids 262143 --vocab-size 262144 --step 1 --print
}

# The largest sizes the limits allow, and past them.
part_limits() {
expect 2 "--heads" "numbers: d-model 4096, heads 4096 (over the heads limit) with a 1-word sentence" -- \
    --d-model 4096 --heads 4096 --sentence a --print
expect 0 "" "numbers: d-model 4096, heads 256 (both limits) with a 1-word sentence works" -- \
    --d-model 4096 --heads 256 --sentence a --print --step 1
# --json writes every value of the [4096, 4096] weights (about 1.5 GB of
# text): it may work, or refuse clearly (status 1 or 65, one line), but
# within the time and memory limits.
# The widest sizes: --print (which summarizes) finishes quickly; --json,
# which writes every value, streams a 52 MB document within the memory
# limit. (At d-model 4096 the JSON is 1.6 GB: it streams too, in flat
# memory, but takes minutes to write.)
run --d-model 4096 --heads 256 --sentence a --print
case $status in
0) problems=$(warnings_problem "$ERR") ;;
1 | 65) problems=$(stderr_problem "$ERR" "") ;;
*) problems=$(status_problem "$status" 0)" (or a clear 1 or 65)" ;;
esac
verdict "numbers: d-model 4096, heads 256, 1-word sentence, --print: works or fails clearly, within the limits" \
    "$problems"
run --d-model 512 --heads 256 --sentence a --json
case $status in
0) problems=$(warnings_problem "$ERR") ;;
*) problems=$(status_problem "$status" 0) ;;
esac
verdict "numbers: d-model 512, heads 256: a 52 MB --json streams within the time and memory limits" "$problems"
expect 65 "--max-memory" "numbers: d-model 4096 with 4096 tokens: too much memory, refused at once" -- \
    --d-model 4096 --heads 256 --sentence-file "$S/4096.txt" --print
# The user raises the cap past what the process may take: the program
# must still stop within the limits, with one clear line and status 1.
if [ -z "$SANITIZED" ]; then
    expect 1 "GiB" "numbers: d-model 4096, 4096 tokens, --max-memory 64G under a 4 GB limit fails clearly" -- \
        --d-model 4096 --heads 256 --sentence-file "$S/4096.txt" --print --max-memory 64G
else
    ok "numbers: --max-memory 64G under a 4 GB limit # SKIP the sanitizer build runs without an address-space limit"
fi
}

# ===========================================================================
# Lessons.

part_lessons() {
# (The rows of each part are not indented, to keep this table easy to diff.)
LD=$TMP/lessons
mkdir "$LD"
# mklesson FILE TITLE TEXT QUESTION ANSWER TOLERANCE [HEADER...]
mklesson() {
    f=$1
    title=$2 text=$3 question=$4 answer=$5 tolerance=$6
    shift 6
    {
        printf 'attn-lesson: 1\ntitle: %s\nsentence: the cat sat\n' "$title"
        for h in "$@"; do
            printf '%s\n' "$h"
        done
        printf 'steps: softmax\n\n## softmax\n\n%s\n\n' "$text"
        printf '::: quiz\nkind: number\nquestion: %s\nanswer: %s\ntolerance: %s\n:::\n' \
            "$question" "$answer" "$tolerance"
    } >"$f"
}
mklesson "$LD/good.lesson" "A good lesson" "Softmax turns scores into weights." \
    "What do the weights add up to?" 1 0.001
mklesson "$LD/esc-title.lesson" "Title ${ESC}[2J${ESC}[H" "Text." "Q?" 1 0.001
mklesson "$LD/osc-text.lesson" "T" "Text ${ESC}]0;pwned${BEL} more." "Q?" 1 0.001
mklesson "$LD/csi-question.lesson" "T" "Text." "Q ${ESC}[31m red?" 1 0.001
mklesson "$LD/c1-title.lesson" "Title ${CSI8}2J" "Text." "Q?" 1 0.001
mklesson "$LD/nan-answer.lesson" "T" "Text." "Q?" NaN 0.001
mklesson "$LD/inf-answer.lesson" "T" "Text." "Q?" inf 0.001
mklesson "$LD/nan-tolerance.lesson" "T" "Text." "Q?" 1 nan
mklesson "$LD/inf-tolerance.lesson" "T" "Text." "Q?" 1 inf
mklesson "$LD/heads.lesson" "T" "Text." "Q?" 1 0.001 "d-model: 10" "heads: 4"
mklesson "$LD/ids.lesson" "T" "Text." "Q?" 1 0.001 "token-ids: 0 1 3" "vocab-size: 3"
mklesson "$LD/id-2-63.lesson" "T" "Text." "Q?" 1 0.001 "token-ids: 0 1 9223372036854775808"
mklesson "$LD/d-model.lesson" "T" "Text." "Q?" 1 0.001 "d-model: 99999999999999999999999999"
mklesson "$LD/d-model-4097.lesson" "T" "Text." "Q?" 1 0.001 "d-model: 4097"
mklesson "$LD/d-model-4096.lesson" "T" "Text." "Q?" 1 0.001 "d-model: 4096" "heads: 256"
printf 'attn-lesson: 1\ntitle: A NUL\n\n## tokenize\n\nText\000here.\n' >"$LD/nul.lesson"
printf 'attn-lesson: 1\ntitle: Caf\351 (Latin-1)\n' >"$LD/latin1.lesson"
{
    printf 'attn-lesson: 1\ntitle: Huge\n\n## tokenize\n\n'
    head -c 1048576 /dev/zero | tr '\0' 'a' | fold -w 70
} | head -c 1048577 >"$LD/huge.lesson"
{
    printf 'attn-lesson: 1\ntitle: Long line\n\n## tokenize\n\n'
    head -c 5000 /dev/zero | tr '\0' 'a'
    printf '\n'
} >"$LD/longline.lesson"
{
    # 2000 tokens: a line holds at most 4096 bytes
    printf 'attn-lesson: 1\ntitle: Too big for memory\nd-model: 4096\nheads: 256\nsentence: '
    words 2000 a
    printf '\n'
} >"$LD/too-big.lesson"
mkdir "$LD/dir.lesson"

expect 0 "" "lessons: the good fixture lesson --check passes (control row)" -- --check "$LD/good.lesson"
expect 65 "^$LD/nul.lesson:6:5: " "lessons: a NUL byte" -- --check "$LD/nul.lesson"
expect 65 "^$LD/latin1.lesson:2:" "lessons: invalid UTF-8 (a Latin-1 title)" -- --check "$LD/latin1.lesson"
expect 65 "^$LD/esc-title.lesson:2:" "lessons: ESC [2J in the title (--check)" -- --check "$LD/esc-title.lesson"
expect 65 "^$LD/esc-title.lesson:2:" "lessons: ESC [2J in the title: --print makes no handout" -- \
    --print "$LD/esc-title.lesson"
expect 65 "^$LD/esc-title.lesson:2:" "lessons: ESC [2J in the title: --dump-screen draws no screen" -- \
    --dump-screen - "$LD/esc-title.lesson"
expect 65 "^$LD/osc-text.lesson:" "lessons: OSC 0;title BEL in the text: --print" -- --print "$LD/osc-text.lesson"
expect 65 "^$LD/osc-text.lesson:" "lessons: OSC 0;title BEL in the text: --dump-screen" -- \
    --dump-screen - "$LD/osc-text.lesson"
expect 65 "^$LD/csi-question.lesson:" "lessons: ESC [31m in a question: --print" -- --print "$LD/csi-question.lesson"
expect 65 "^$LD/csi-question.lesson:" "lessons: ESC [31m in a question: --dump-screen" -- \
    --dump-screen - --keys "<Space>" "$LD/csi-question.lesson"
expect 65 "^$LD/c1-title.lesson:" "lessons: C1 CSI in the title" -- --print "$LD/c1-title.lesson"
expect 65 "^$LD/huge.lesson:|LESSON_MAX_BYTES" "lessons: a 1 MiB + 1 byte lesson" -- --check "$LD/huge.lesson"
expect 65 "^/dev/zero: |LESSON_MAX_BYTES" "lessons: /dev/zero as a lesson stops at the size limit" -- \
    --print /dev/zero
expect 65 "^$LD/longline.lesson:" "lessons: a 5000-byte line" -- --check "$LD/longline.lesson"
expect 66 "directory" "lessons: a directory as the lesson" -- --print "$LD/dir.lesson"
expect 66 "directory" "lessons: a directory as the lesson (--check)" -- --check "$LD/dir.lesson"
expect 66 "cannot open" "lessons: a missing lesson" -- --print "$LD/missing.lesson"
expect 66 "cannot open" "lessons: a missing lesson (--check)" -- --check "$LD/missing.lesson"
expect 66 "cannot open" "lessons: a missing LESSON whose name holds ESC [2J is not echoed raw" -- \
    "$LD/no${ESC}[2Jsuch.lesson"
expect 66 "cannot open" "lessons: --check of a missing file whose name holds ESC [2J" -- \
    --check "$LD/no${ESC}[2Jsuch.lesson"
expect 66 "cannot open" "lessons: a missing LESSON whose name holds C1 CSI is not echoed raw" -- \
    "$LD/no${CSI8}2Jsuch.lesson"
expect 66 "cannot open" "lessons: a missing LESSON whose name holds a newline stays one line" -- \
    "$LD/no${NL}such.lesson"
expect 66 "cannot open" "lessons: --check of a missing file whose name holds a newline stays one line" -- \
    --check "$LD/no${NL}such.lesson"
cp "$LD/heads.lesson" "$LD/x${ESC}[2J.lesson"
expect 65 "^$LD/x|does not divide" "lessons: FILE:LINE:COL of a lesson whose file name holds ESC [2J" -- \
    --check "$LD/x${ESC}[2J.lesson"
expect 65 "^$LD/nan-answer.lesson:|must be a decimal number" "lessons: NaN as a number quiz's answer" -- \
    --check "$LD/nan-answer.lesson"
expect 65 "^$LD/inf-answer.lesson:|must be a decimal number" "lessons: inf as a number quiz's answer" -- \
    --check "$LD/inf-answer.lesson"
expect 65 "^$LD/nan-tolerance.lesson:|tolerance" "lessons: NaN as a tolerance" -- --check "$LD/nan-tolerance.lesson"
expect 65 "^$LD/inf-tolerance.lesson:|tolerance" "lessons: inf as a tolerance" -- --check "$LD/inf-tolerance.lesson"
expect 65 "^$LD/heads.lesson:|does not divide" "lessons: heads 4 not dividing d-model 10" -- \
    --check "$LD/heads.lesson"
expect 65 "^$LD/ids.lesson:|not below the vocabulary size 3" "lessons: a token id equal to vocab-size" -- \
    --check "$LD/ids.lesson"
expect 65 "^$LD/id-2-63.lesson:|too large" "lessons: a token id of 2^63" -- --check "$LD/id-2-63.lesson"
expect 65 "^$LD/d-model.lesson:|too large" "lessons: d-model 10^26" -- --check "$LD/d-model.lesson"
expect 65 "^$LD/d-model-4097.lesson:|4097" "lessons: d-model 4097" -- --print "$LD/d-model-4097.lesson"
expect 0 "" "lessons: d-model 4096, heads 256 (the limits) opens" -- --print --step 1 "$LD/d-model-4096.lesson"
expect 65 "--max-memory" "lessons: 2000 tokens at d-model 4096, 256 heads is refused for memory, at once" -- \
    --print "$LD/too-big.lesson"
mklesson "$LD/changed-no-exp.lesson" "T" "Text." "How many changed?" "=changed(a1)" 0
expect 65 "^$LD/changed-no-exp.lesson:13:10: |experiment:" "lessons: =changed(a1) in a step without experiment:" -- \
    --check "$LD/changed-no-exp.lesson"
printf 'attn-lesson: 1\ntitle: T\nsteps: softmax\n\n## softmax\nexperiment: no-scale\n\nText.\n\n::: quiz\nkind: number\nquestion: Q?\nanswer: =changed(a9)\n:::\n' \
    >"$LD/changed-unknown.lesson"
expect 65 "^$LD/changed-unknown.lesson:13:18: |not a tensor" "lessons: =changed(a9), an unknown tensor, under no-scale" \
    -- --check "$LD/changed-unknown.lesson"
expect 65 "^$LD/changed-unknown.lesson:13:18: |not a tensor" "lessons: =changed(a9): the tracer does not open" -- \
    --dump-screen - "$LD/changed-unknown.lesson"
printf 'attn-lesson: 1\ntitle: T\nsteps: softmax\n\n## softmax\nexperiment: set=w_key[99,0]=1\n\nText.\n' \
    >"$LD/set-out-of-range.lesson"
expect 65 "^$LD/set-out-of-range.lesson:6:13: |out of range" "lessons: experiment: set= an index past w_key's end" \
    -- --check "$LD/set-out-of-range.lesson"

# The lesson directories --list-lessons reads: whatever a teacher leaves
# there (a FIFO, a symlink loop, a directory, a broken lesson, a file name
# with an escape sequence) is listed, never opened blocking, never echoed raw.
CAT=$TMP/catalog
mkdir "$CAT"
cp "$LD/good.lesson" "$CAT/good.lesson"
cp "$LD/good.lesson" "$CAT/x${ESC}[2J.lesson"
cp "$LD/heads.lesson" "$CAT/broken.lesson"
mkdir "$CAT/dir.lesson"
ln -s loop.lesson "$CAT/loop.lesson"
WITH="ATTN_TRACE_LESSONS=$CAT"
expect 0 "" "lessons: --list-lessons with a directory, a symlink loop, a broken lesson, ESC in a name" -- \
    --list-lessons
stdout_has "A good lesson" "lessons: --list-lessons still lists the good lesson beside them"
if mkfifo "$CAT/fifo.lesson" 2>/dev/null; then
    expect 0 "" "lessons: --list-lessons with a FIFO named x.lesson in the directory does not block" -- --list-lessons
    rm -f "$CAT/fifo.lesson"
fi
mkdir "$TMP/cat${ESC}[2J"
cp "$LD/good.lesson" "$TMP/cat${ESC}[2J/good.lesson"
WITH="ATTN_TRACE_LESSONS=$TMP/cat${ESC}[2J"
expect 0 "" "lessons: --list-lessons with ESC [2J in \$ATTN_TRACE_LESSONS does not echo it raw" -- --list-lessons
WITH="ATTN_TRACE_LESSONS=$S/plain"
expect 0 "" "lessons: --list-lessons with \$ATTN_TRACE_LESSONS naming a regular file" -- --list-lessons
WITH=

# --check on three files, one missing and one bad: every file is reported,
# one line per problem, and the worse status (66) wins.
run --check "$LD/good.lesson" "$LD/missing.lesson" "$LD/heads.lesson"
problems=$(status_problem "$status" 66)
grep -q "good.lesson: ok" "$OUT" || add "stdout lacks the good file's ok line: $(show "$OUT")"
[ "$(wc -l <"$ERR" | tr -d ' ')" -eq 2 ] || add "stderr has $(wc -l <"$ERR" | tr -d ' ') lines, not 2: $(show "$ERR")"
grep -q "^attn-trace: $LD/missing.lesson: cannot open" "$ERR" || grep -q "^$LD/missing.lesson: cannot open" "$ERR" ||
    add "stderr does not report the missing file"
grep -q "^$LD/heads.lesson:[0-9]*:[0-9]*: " "$ERR" || add "stderr has no FILE:LINE:COL line for the bad file"
p=$(raw_problem "$ERR")
[ -n "$p" ] && add "stderr carries $p"
verdict "lessons: --check good, missing, bad: status 66, each file reported on its own line" "$problems"
run --check "$LD/good.lesson" "$LD/heads.lesson"
verdict "lessons: --check good and bad: status 65" "$(status_problem "$status" 65)"
}

# ===========================================================================
# Saved progress.
#
# A lesson's progress lives in $XDG_STATE_HOME/attn-trace/<key>.progress,
# <key> being the FNV-1a 64 hash of the lesson's real path, '-', the hash
# of its bytes (src/lesson/progress.h). The hashes are computed here in shell
# arithmetic, which wraps at 64 bits in dash and bash; the first row checks
# that the tracer really reads the file so named.

# fnv1a64 < FILE: the 16 hex digits of the FNV-1a 64 hash of stdin.
fnv1a64() {
    h=-3750763034362895579 # 0xcbf29ce484222325 as a signed 64-bit number
    for b in $(od -An -v -tu1); do
        h=$(((h ^ b) * 1099511628211))
    done
    printf '%016x' "$h"
}

# progress TEXT...: writes the progress file (printf format and args).
progress() {
    rm -rf "$PF"
    mkdir -p "$SD"
    # shellcheck disable=SC2059 # the format is the argument
    printf "$@" >"$PF"
}

# Terminal rows run under util-linux script(1), which gives the tracer a
# pseudo-terminal; "q" is typed into it.
HAVE_SCRIPT=no
if command -v script >/dev/null 2>&1 && script -qec true /dev/null </dev/null >/dev/null 2>&1; then
    HAVE_SCRIPT=yes
fi

# tui DESCRIPTION WANT KEYS SHELL-COMMAND: runs SHELL-COMMAND (which runs
# the tracer with "2>$ERR") on a pseudo-terminal of 80x24, typing KEYS;
# checks the exit status WANT, that stderr is only one-line warnings
# (WANT 0) or one clean error line (otherwise), and that the terminal's
# settings (stty -g) are the same after the run as before it.
tui() {
    desc=$1
    want=$2
    keys=$3
    if [ "$HAVE_SCRIPT" = no ]; then
        ok "$desc # SKIP util-linux script not available"
        return
    fi
    : >"$ERR"
    rm -f "$TMP/stty.before" "$TMP/stty.after"
    printf '%s' "$keys" | (
        # shellcheck disable=SC3045 # ulimit -v: dash, bash, busybox and ksh have it
        [ -n "$SANITIZED" ] || ulimit -v "$LIMIT_KB" 2>/dev/null
        SHELL=/bin/sh
        export SHELL
        exec timeout -k 2 "$SECONDS_MAX" script -qec "stty cols 80 rows 24; stty -g >'$TMP/stty.before'; $4;
            st=\$?; stty -g >'$TMP/stty.after'; exit \$st" /dev/null
    ) >"$OUT" 2>/dev/null
    status=$?
    problems=$(status_problem "$status" "$want")
    if [ "$want" -eq 0 ]; then
        add "$(warnings_problem "$ERR")"
    else
        add "$(stderr_problem "$ERR" "")"
        grep -q "$ESC" "$OUT" && add "the terminal received escape sequences: $(show "$OUT")"
    fi
    if [ ! -s "$TMP/stty.after" ]; then
        [ "$status" -ne 124 ] && add "the terminal's settings could not be read after the run"
    elif ! cmp -s "$TMP/stty.before" "$TMP/stty.after"; then
        add "the terminal was left in another mode: $(cat "$TMP/stty.before") became $(cat "$TMP/stty.after")"
    fi
    verdict "$desc" "$problems"
}

# state_rows NAME [XDG_STATE_HOME]: --list-lessons, --dump-screen and the
# tracer on the lesson, with the state as the caller left it.
state_rows() {
    xdg=${2:-$TMP/pstate}
    WITH="ATTN_TRACE_LESSONS=$PD XDG_STATE_HOME=$xdg"
    expect 0 "" "state: $1: --list-lessons works" -- --list-lessons
    if ! grep -q "State test" "$OUT"; then
        not_ok "state: $1: --list-lessons lists the lesson" "$(show "$OUT")"
    elif grep -q "at step [0-9]*:" "$OUT" && ! grep -q "at step [1-3]: [01] right, [01] revealed, [01] skipped" "$OUT"; then
        not_ok "state: $1: --list-lessons shows a place inside the lesson" \
            "$(grep -A1 'State test' "$OUT" | tr -s ' \n' ' ')"
    else
        ok "state: $1: --list-lessons lists the lesson, at a place inside it"
    fi
    expect 0 "" "state: $1: --dump-screen - LESSON works" -- --dump-screen - "$PL"
    WITH=
    tui "state: $1: the tracer opens, q quits, warnings one line each" 0 q \
        "env XDG_STATE_HOME='$xdg' TERM=xterm '$BIN' --tui '$PL' 2>'$ERR'"
}

part_progress() {
# (The rows of each part are not indented, to keep this table easy to diff.)
PD=$TMP/plessons
mkdir "$PD"
PL=$PD/state.lesson
{
    printf 'attn-lesson: 1\ntitle: State test\nsteps: tokenize embed softmax\n\n## softmax\n\nText.\n\n'
    printf '::: quiz\nkind: number\nquestion: Sum of a1?\nanswer: 1\n:::\n'
} >"$PL"
# The key: the lesson's name, then its walk (each step's id, then per quiz
# its kind's letter and a for after / b for before), as progress.h says.
KEY=$(printf '%s' state | fnv1a64)-$(printf 'tokenize:\nembed:\nsoftmax:na\n' | fnv1a64)
SD=$TMP/pstate/attn-trace
PF=$SD/$KEY.progress

progress 'attn-trace-progress 1\nkey: %s\nlast_step: 1\nquizzes: U\nupdated: 1732434000\nend\n' "$KEY"
WITH="ATTN_TRACE_LESSONS=$PD XDG_STATE_HOME=$TMP/pstate"
run --list-lessons
WITH=
if [ "$status" -eq 0 ] && grep -q "at step 2: 0 right, 0 revealed, 0 skipped" "$OUT"; then
    ok "state: a valid progress file is read back (this test names it right: $KEY)"
else
    not_ok "state: a valid progress file is read back (this test names it right: $KEY)" \
        "status $status; the rows below may not reach the progress file" "$(show "$OUT")"
fi

progress 'garbage \033[2J\033]0;pwned\007\n\377\376\000\n'
state_rows "a progress file of garbage (ESC, 0xFF, NUL)"
progress 'attn-trace-progress 1\nkey: %s\nlast_st' "$KEY"
state_rows "a truncated progress file"
progress 'attn-trace-progress 1\nkey: %s\nlast_step: 9999\nquizzes: F F F F F F F F\nupdated: 1\nend\n' "$KEY"
state_rows "a well-formed progress file with a step and quizzes beyond the lesson"
progress 'attn-trace-progress 1\nkey: %s\nlast_step: -2147483649\nquizzes: U\nupdated: -1\nend\n' "$KEY"
state_rows "negative and out-of-range numbers"
progress '%s' "$(head -c 100000 /dev/zero | tr '\0' 'x')"
state_rows "a 100 KB progress file"
rm -rf "$PF"
mkdir -p "$PF"
state_rows "a directory named like the progress file"
rm -rf "$PF"
if mkfifo "$PF" 2>/dev/null; then
    state_rows "a FIFO named like the progress file (opening it must not block)"
    rm -f "$PF"
fi
ln -s "$PF" "$PF"
state_rows "a symlink loop named like the progress file"
rm -f "$PF"
rm -rf "$TMP/pstate"
mkdir "$TMP/pstate"
printf 'a file\n' >"$TMP/pstate/attn-trace"
state_rows "the state directory is a regular file"
rm -f "$TMP/pstate/attn-trace"
printf 'a file\n' >"$TMP/pfile"
state_rows "XDG_STATE_HOME under a regular file (nothing can be saved)" "$TMP/pfile/state"
if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$TMP/ro/attn-trace"
    chmod 500 "$TMP/ro/attn-trace" "$TMP/ro"
    state_rows "a read-only state directory" "$TMP/ro"
fi
tui "state: no usable HOME or XDG_STATE_HOME: the tracer runs, one warning" 0 q \
    "env -u HOME XDG_STATE_HOME=relative TERM=xterm '$BIN' --tui '$PL' 2>'$ERR'"
mkdir -p "$PF"
tui "state: --restart when the progress file is a directory: runs, warnings one line each" 0 q \
    "env XDG_STATE_HOME='$TMP/pstate' TERM=xterm '$BIN' --tui --restart '$PL' 2>'$ERR'"
rm -rf "$PF"
}

# ===========================================================================
# Headless screens.

part_headless() {
# (The rows of each part are not indented, to keep this table easy to diff.)
expect 2 "--size" "headless: --size 0x0" -- --dump-screen - --size 0x0
expect 0 "" "headless: --size 1x1 works" -- --dump-screen - --size 1x1
expect 2 "--size" "headless: --size 100000x1" -- --dump-screen - --size 100000x1
expect 2 "--size" "headless: --size 1x100000" -- --dump-screen - --size 1x100000
expect 2 "--size" "headless: --size 2^64x24" -- --dump-screen - --size 18446744073709551616x24
expect 2 "--size" "headless: --size -80x24" -- --dump-screen - --size -80x24
expect 2 "--size" "headless: --size 80x24x3" -- --dump-screen - --size 80x24x3
expect 2 "--size" "headless: --size x24" -- --dump-screen - --size x24
expect 0 "" "headless: --size 49x11 (below the minimum) draws a notice" -- --dump-screen - --size 49x11
expect 0 "" "headless: --size 1000x1000 (the limit) works" -- --dump-screen - --size 1000x1000
expect 0 "" "headless: --size 1000x1 works" -- --dump-screen - --size 1000x1 --keys "<Enter>?"
expect 2 "unknown key <Nope>" "headless: --keys with an unknown name" -- --dump-screen - --keys "jj<Nope>"
expect 2 "unknown key" "headless: --keys <C-> (a modifier without a key)" -- --dump-screen - --keys "<C->"
expect 2 "unknown key" "headless: --keys <C-ab>" -- --dump-screen - --keys "<C-ab>"
expect 2 "unknown key" "headless: --keys <F99>" -- --dump-screen - --keys "<F99>"
expect 2 "unknown key" "headless: --keys with ESC inside <...> is not echoed raw" -- \
    --dump-screen - --keys "<${ESC}[2J>"
expect 2 "more than 4096 keys" "headless: a 100 KB --keys string" -- \
    --dump-screen - --keys "$(head -c 100000 /dev/zero | tr '\0' 'j')"
expect 2 "--keys" "headless: --keys with a raw control byte (0x01)" -- --dump-screen - --keys "$(printf 'j\001k')"
expect 2 "--keys" "headless: --keys with a raw ESC [2J" -- --dump-screen - --keys "j${ESC}[2J"
expect 2 "--keys" "headless: --keys with a raw newline" -- --dump-screen - --keys "j${NL}k"
expect 2 "--keys" "headless: --keys with DEL" -- --dump-screen - --keys "$(printf 'j\177')"
expect 2 "--keys" "headless: --keys with C1 CSI (U+009B), a control character too" -- \
    --dump-screen - --keys "j${CSI8}2J"
expect 2 "--keys" "headless: --keys with invalid UTF-8" -- --dump-screen - --keys "j${FF}"

expect 1 "cannot write" "headless: --dump-screen into a directory" -- --dump-screen "$S/dir"
expect 1 "cannot write" "headless: --dump-screen under a regular file" -- --dump-screen "$S/plain/screen.txt"
expect 1 "cannot write" "headless: --dump-screen to a path with ESC [2J is not echoed raw" -- \
    --dump-screen "$S/plain/x${ESC}[2J"
if [ -w /dev/full ]; then
    expect 1 "" "headless: --dump-screen /dev/full (a write error)" -- --dump-screen /dev/full
else
    ok "headless: --dump-screen /dev/full # SKIP no /dev/full"
fi

# Pseudo-random walks of 4096 keys over every key the tracer knows, on
# lessons with quizzes, at several sizes: no crash, no hang, a clean screen.
# fuzz_keys SEED: 4096 keys, from a fixed LCG.
fuzz_keys() {
    awk -v seed="$1" 'BEGIN {
        n = split("j k h l j k <Space> <Space> b g G s <Enter> <Esc> <Tab> <S-Tab> e N ? <F1> ] [ 0 $ " \
                  "<PageUp> <PageDown> <Home> <End> <C-l> <C-u> <C-d> <BS> <Up> <Down> <Left> <Right> " \
                  "1 2 x 5 . - , <lt> n p <CR> a Z", k, " ")
        x = seed
        for (i = 0; i < 4096; i++) {
            x = (x * 1103515245 + 12345) % 2147483648
            printf "%s", k[int(x / 65536) % n + 1]
        }
    }'
}
LESSONS_DIR=$(cd "$(dirname "$0")/../lessons" 2>/dev/null && pwd)
seed=1
for size in 80x24 50x12 1x1 200x60; do
    for l in builtin causal-mask your-sentence; do
        case $l in
        builtin) target="" ;;
        *) target=$LESSONS_DIR/$l.lesson ;;
        esac
        if [ -n "$target" ] && [ ! -f "$target" ]; then
            ok "headless: 4096 random keys on $l at $size # SKIP no $target"
            continue
        fi
        rows=${size#*x}
        expect 0 "" "headless: 4096 random keys (seed $seed) on $l at $size" -- \
            --dump-screen - --size "$size" --keys "$(fuzz_keys $seed)" ${target:+"$target"}
        seed=$((seed + 1))
        lines=$(wc -l <"$OUT" | tr -d ' ')
        if [ "$status" -eq 0 ] && [ "$lines" -ne "$rows" ]; then
            not_ok "headless: the screen after random keys on $l at $size has $rows lines" "it has $lines"
        fi
    done
done
expect 0 "" "headless: 4096 random keys on a 64-token, 64-wide, 16-head trace at 120x40" -- \
    --dump-screen - --size 120x40 --sentence "$(words 64 w)" --d-model 64 --heads 16 --keys "$(fuzz_keys 99)"
}

# ===========================================================================
# A GPT-2 checkpoint (--model): the committed fixtures, and what is wrong
# with the request. The checkpoint files' own faults are check_model.c's.

part_model() {
# (The rows of each part are not indented, to keep this table easy to diff.)
G=$(cd "$(dirname "$0")" && pwd)/fixtures/gpt2
GM=$G/d16_h2_l2_f32 # 2 layers, 16 positions, vocabulary 64, no tokenizer files
expect 0 "" "model: layer 1 of a fixture checkpoint (--print)" -- --model "$GM" --token-ids "5 17 3" --layer 1 --print
expect 65 "n_layer 2" "model: --layer 2 of a 2-layer checkpoint" -- --model "$GM" --token-ids "5 17 3" --layer 2
expect 65 "n_layer 2" "model: --layer 4000000000" -- --model "$GM" --token-ids "5" --layer 4000000000
expect 66 "config.json" "model: --model on a missing directory" -- --model "$TMP/no-such-model" --token-ids 1
expect 65 "17 tokens are more than its n_positions (16)" "model: 17 tokens for 16 positions" -- \
    --model "$GM" --token-ids "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17"
expect 65 "17 tokens are more than its n_positions (16)" "model: --tokens 17 for 16 positions" -- \
    --model "$GM" --token-ids "1 2" --tokens 17
expect 65 "vocabulary size 64" "model: a token id past the vocabulary" -- --model "$GM" --token-ids "3 64"
expect 66 "vocab.json" "model: --sentence with a checkpoint that has no tokenizer files" -- --model "$GM" --sentence "hi"
expect 2 "--layer goes with --model" "model: --layer without --model" -- --layer 1
expect 2 "cannot be used with --model" "model: --d-model beside --model" -- --model "$GM" --token-ids 1 --d-model 8
expect 2 "not both" "model: --sentence and --token-ids beside --model" -- --model "$GM" --token-ids 1 --sentence "a"
expect 2 "needs a directory" "model: --model ''" -- --model "" --token-ids 1
expect 66 "no such model" "model: --model NAME that no lesson directory has" -- --model no-such-model --token-ids 1
# The experiment switches (issue 13): each bad change is one line, exit 2.
expect 2 "there is no head 9" "experiment: --zero-head 9 of 4 heads" -- --print --zero-head 9
expect 2 "takes a head number" "experiment: --zero-head x" -- --print --zero-head x
expect 2 "there is no token 9" "experiment: --swap-tokens 1,9 of 5 tokens" -- --print --swap-tokens 1,9
expect 2 "takes two token positions" "experiment: --swap-tokens 1" -- --print --swap-tokens 1
expect 2 "a number other than 0" "experiment: --scale 0" -- --print --scale 0
expect 2 "a number other than 0" "experiment: --scale abc" -- --print --scale abc
expect 2 "has no tensor nosuch" "experiment: --set on an unknown tensor" -- --print --set "nosuch[0]=1"
expect 2 "index 99 is out of range for w_query" "experiment: --set past a tensor's end" -- --print --set "w_query[99,0]=1"
expect 2 "'abc' is not a number" "experiment: --set to a value that is not a number" -- --print --set "w_query[0,0]=abc"
expect 2 "expected '=' and the new value" "experiment: --set without a value" -- --print --set "w_query[0,0]"
expect 2 "no-positions needs --model" "experiment: --no-positions without a model" -- --print --no-positions
expect 2 "needs the causal trace" "experiment: --kv-cache without --causal" -- --print --kv-cache
expect 2 "always masks" "experiment: --no-mask on a GPT-2 checkpoint" -- --model "$GM" --token-ids "1 2" --no-mask --print
expect 0 "" "experiment: --no-positions on a GPT-2 checkpoint (--diff)" -- --model "$GM" --token-ids "1 2 3" --no-positions --diff
# Lessons that walk a model (model: and layer: in the header, a step block's layer:).
TINY=$(cd "$(dirname "$0")/.." && pwd)/lessons/models/tiny
L=$TMP/model-lessons
mkdir -p "$L"
printf 'attn-lesson: 1\ntitle: m\nmodel: %s\nsentence: The old farmer sleeps.\nsteps: gpt2_softmax\n\n## gpt2_softmax\n::: step\nlayer: 1\ncompare: yes\n:::\n' "$TINY" >"$L/good.lesson"
printf 'attn-lesson: 1\ntitle: m\nmodel: no-such-model\n' >"$L/missing.lesson"
printf 'attn-lesson: 1\ntitle: m\nmodel: %s\nlayer: 9\n' "$TINY" >"$L/layer.lesson"
printf 'attn-lesson: 1\ntitle: m\nmodel: %s\nsteps: softmax\n' "$TINY" >"$L/article-step.lesson"
printf 'attn-lesson: 1\ntitle: m\nmodel: %s\nsteps: gpt2_softmax\n\n## gpt2_softmax\n::: step\nlayer: 5\n:::\n' "$TINY" >"$L/step-layer.lesson"
expect 0 "" "model lesson: --print of a step with its own layer" -- "$L/good.lesson" --print
expect 66 "^$L/missing.lesson:3:8|no such model" "model lesson: a model no directory has (--check)" -- --check "$L/missing.lesson"
expect 66 "^$L/missing.lesson:3:8|no such model" "model lesson: a model no directory has (opened)" -- "$L/missing.lesson" --print
expect 65 "^$L/layer.lesson:4:8|n_layer 2 (layers 0 to 1)" "model lesson: layer 9 of 2" -- --check "$L/layer.lesson"
expect 65 "^$L/article-step.lesson:4:8|is the article's" "model lesson: an article step id" -- --check "$L/article-step.lesson"
expect 65 "^$L/step-layer.lesson:8:8|layer 5 is out of range" "model lesson: a step's layer 5 of 2" -- --check "$L/step-layer.lesson"
expect 2 "cannot be used with a LESSON" "model lesson: with --model" -- "$L/good.lesson" --model "$TINY" --print
expect 2 "cannot be used with a lesson that walks a model" "model lesson: with --d-model" -- "$L/good.lesson" --d-model 8 --print
expect 65 "n_layer 2" "model lesson: with --layer 7" -- "$L/good.lesson" --layer 7 --print
}

# ===========================================================================
# Terminal.

part_terminal() {
# (The rows of each part are not indented, to keep this table easy to diff.)
WITH="TERM=dumb"
expect 1 "cannot start the terminal UI" "terminal: TERM=dumb with --tui, stdout a file" -- --tui
WITH="-u TERM"
expect 1 "cannot start the terminal UI" "terminal: TERM unset with --tui" -- --tui
WITH="TERM=xterm"
expect 1 "cannot start the terminal UI" "terminal: --tui with stdin /dev/null and stdout a file" -- --tui
WITH=
if command -v setsid >/dev/null 2>&1; then
    # setsid drops the controlling terminal: /dev/tty cannot be opened.
    (
        # shellcheck disable=SC3045 # ulimit -v: dash, bash, busybox and ksh have it
        [ -n "$SANITIZED" ] || ulimit -v "$LIMIT_KB" 2>/dev/null
        exec timeout -k 2 "$SECONDS_MAX" setsid -w env TERM=xterm "$BIN" --tui
    ) </dev/null >"$OUT" 2>"$ERR"
    status=$?
    problems=$(status_problem "$status" 1)
    [ -s "$OUT" ] && add "stdout is not empty: $(show "$OUT")"
    add "$(stderr_problem "$ERR" "")"
    verdict "terminal: --tui with no controlling terminal (setsid), stdin /dev/null: status 1, no hang" "$problems"
else
    ok "terminal: --tui with no controlling terminal # SKIP no setsid"
fi
tui "terminal: TERM=dumb on a real terminal: status 1, one line, no escape codes" 1 q \
    "env TERM=dumb '$BIN' --tui 2>'$ERR'"
tui "terminal: TERM unset on a real terminal: status 1, one line, no escape codes" 1 q \
    "env -u TERM '$BIN' --tui 2>'$ERR'"
tui "terminal: an unknown TERM on a real terminal: status 1, one line" 1 q \
    "env TERM=no-such-terminal '$BIN' --tui 2>'$ERR'"
tui "terminal: a TERM holding ESC [2J is not echoed raw" 1 q \
    "env TERM=\"\$(printf 'x\\033[2J')\" '$BIN' --tui 2>'$ERR'"
tui "terminal: the tracer on a real terminal, stdin /dev/null: q from the terminal quits" 0 q \
    "env TERM=xterm '$BIN' --tui --no-lesson </dev/null 2>'$ERR'"
tui "terminal: a 10x5 terminal (below the minimum): q quits, the terminal restored" 0 q \
    "stty cols 10 rows 5; env TERM=xterm '$BIN' --tui --no-lesson 2>'$ERR'"
tui "terminal: control bytes and escape sequences typed at the tracer, then q" 0 \
    "$(printf 'jj\033[2J\033]0;x\007\001\002\233\377\033[200~paste\033[201~\033Oq\033q')q" \
    "env TERM=xterm '$BIN' --tui --no-lesson 2>'$ERR'"

}

# ===========================================================================
# Running the parts.
#
# The parts run side by side, JOBS at a time (ATTN_TEST_JOBS, default one
# more than the number of cores: the terminal rows mostly wait), each in a subshell with its own $TMP/part-NAME (its
# fixtures, $OUT, $ERR, HOME and XDG_STATE_HOME), its TAP lines in
# $TMP/NAME.tap and its counts in $TMP/NAME.count. A lane takes the next
# part nobody has claimed (mkdir is atomic), longest first. The parts'
# lines are then printed in the table's order, numbered 1, 2, ... across
# the parts as if one shell had run them all in turn.
PARTS="sentences numbers sizes limits lessons progress headless model terminal"
LONGEST_FIRST="limits terminal progress numbers lessons sentences sizes headless model"
JOBS=${ATTN_TEST_JOBS:-$(($(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) + 1))}
case $JOBS in
'' | *[!0-9]* | 0) JOBS=2 ;;
esac

# run_part NAME: runs part NAME in this (sub)shell with its own state.
run_part() {
    TMP=$TOP/part-$1
    mkdir "$TMP" "$TMP/home" "$TMP/state" "$TMP/nolessons"
    OUT=$TMP/out
    ERR=$TMP/err
    HOME=$TMP/home
    XDG_STATE_HOME=$TMP/state
    ATTN_TRACE_LESSONS=$TMP/nolessons
    n=0 passed=0 failed=0
    "part_$1"
    printf '%s %s\n' "$passed" "$failed" >"$TOP/$1.count"
}

# lane: runs parts until every one is claimed.
lane() {
    for part in $LONGEST_FIRST; do
        if mkdir "$TOP/claim-$part" 2>/dev/null; then
            run_part "$part" >"$TOP/$part.tap" 2>&1
        fi
    done
}

TOP=$TMP
lanes=""
i=0
while [ "$i" -lt "$JOBS" ]; do
    lane &
    lanes="$lanes $!"
    i=$((i + 1))
done
# shellcheck disable=SC2086 # a list of process ids
wait $lanes
lanes="" # all ended: nothing for the cleanup to stop

# Every row belongs to a part: one run outside them would be counted by
# nobody, so its failure would be lost.
if [ "${n:-0}" -ne 0 ]; then
    echo "not ok 0 - bad-input: $n rows ran outside the parts (put them in a part_NAME function and in PARTS)"
    exit 1
fi
passed=0
failed=0
for part in $PARTS; do
    if [ ! -f "$TOP/$part.count" ]; then
        failed=$((failed + 1))
        echo "not ok 0 - bad-input: the part $part of the table did not finish" >>"$TOP/$part.tap"
        continue
    fi
    read -r p f <"$TOP/$part.count"
    passed=$((passed + p))
    failed=$((failed + f))
done
for part in $PARTS; do
    cat "$TOP/$part.tap" 2>/dev/null
done | awk '/^(not )?ok [0-9]+ / { k++; sub(/ok [0-9]+ /, "ok " k " ") } { print }'

printf 'bad-input: %s passed, %s failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]

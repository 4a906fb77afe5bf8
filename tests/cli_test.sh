#!/bin/sh
# cli_test.sh - runs the real attn-trace binary and checks its command line:
# exit statuses, that an error is exactly one clean line on stderr starting
# with "attn-trace: " and nothing on stdout, and the good paths.
#
#   tests/cli_test.sh build/attn-trace
#
# Prints TAP-style "ok N - ..." / "not ok N - ..." lines, then
# "cli: N passed, M failed"; exits 1 when any check failed.
# Needs only POSIX sh and the usual tools; python3 is used, when present,
# for the one check that the --json output parses.

BIN=${1:-build/attn-trace}
case $BIN in
    */*) ;;
    *) BIN=./$BIN ;;
esac
if [ ! -x "$BIN" ]; then
    echo "cli_test.sh: $BIN is not an executable (build it with make build-bin)" >&2
    exit 2
fi

LC_ALL=C
export LC_ALL

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-cli-test.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

OUT=$TMP/out
ERR=$TMP/err

. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/cli_lib.sh"

# Characters that are awkward to type in POSIX sh.
NL='
'
ESC=$(printf '\033')
FF=$(printf '\377')

# Sentence files.
GOOD_FILE=$TMP/good.txt
printf 'The cat\nsaw the\r\n\tdog\n' >"$GOOD_FILE"
BOM_FILE=$TMP/bom.txt
printf '\357\273\277Hello world\n' >"$BOM_FILE"
EMPTY_FILE=$TMP/empty.txt
: >"$EMPTY_FILE"
NUL_FILE=$TMP/nul.txt
printf 'ab\000cd\n' >"$NUL_FILE"
UTF8_FILE=$TMP/utf8.txt
printf 'one two\nthree\nab\377cd\n' >"$UTF8_FILE"
ESC_FILE=$TMP/esc.txt
printf 'fine\n\033[31mred\n' >"$ESC_FILE"
DIR=$TMP/adir
mkdir "$DIR"
NEWLINE_PATH="$TMP/no${NL}such"

# The steps, from the tests' own list (number, id, title a line).
STEPS_EXPECTED=$TMP/steps.expected
grep -v '^#' "$(dirname "$0")/steps.expected" >"$STEPS_EXPECTED"
STEPS=$(cut -f2 "$STEPS_EXPECTED")
N_STEPS=$(grep -c . "$STEPS_EXPECTED")
LAST_STEP=$(tail -n 1 "$STEPS_EXPECTED" | cut -f2)

# ---------------------------------------------------------------------------
# Bad command lines.

# A missing value, for every flag that takes one.
for flag in --step --precision --sentence --sentence-file --token-ids --vocab-size --d-model --heads --focus --seed; do
    bad 2 "$flag: needs a value" "$flag without a value" -- "$flag"
done
bad 2 "--step" "--step '' (empty)" -- --step ""
bad 2 "--step" "--step= (empty)" -- --step=
bad 2 "--heads: expected a whole number" "--heads= (empty)" -- --heads=

# Not a number, negative, out of range; both spellings.
bad 2 "--heads: expected a whole number from 1 to 256, got 'four'" "--heads four" -- --heads four
bad 2 "--d-model: expected a whole number" "--d-model=16x" -- --d-model=16x
bad 2 "--precision: expected a whole number" "--precision 1.5" -- --precision 1.5
bad 2 "--seed: expected a whole number" "--seed 0x10" -- --seed 0x10
bad 2 "--vocab-size: expected a whole number" "--vocab-size +5" -- --vocab-size +5
bad 2 "--focus: expected a whole number" "--focus ' 1'" -- --focus " 1"
bad 2 "--heads: expected a whole number from 1 to 256" "--heads -1" -- --heads -1
bad 2 "--d-model: expected a whole number from 1 to 4096" "--d-model=-16" -- --d-model=-16
bad 2 "--seed: expected a whole number" "--seed -1" -- --seed -1
bad 2 "--precision: expected a whole number from 0 to 9" "--precision=-1" -- --precision=-1
bad 2 "--focus" "--focus -2" -- --focus -2
bad 2 "--heads: expected a whole number from 1 to 256, got '0'" "--heads 0" -- --heads 0
bad 2 "--heads: expected a whole number from 1 to 256, got '257'" "--heads 257" -- --heads 257
bad 2 "from 1 to 256" "--heads=257" -- --heads=257
bad 2 "--d-model: expected a whole number from 1 to 4096" "--d-model 0" -- --d-model 0
bad 2 "--d-model: expected a whole number from 1 to 4096" "--d-model=4097" -- --d-model=4097
bad 2 "--heads" "--heads 99999999999999999999" -- --heads 99999999999999999999
bad 2 "--d-model" "--d-model 99999999999999999999" -- --d-model 99999999999999999999
bad 2 "--seed" "--seed 2^64 (18446744073709551616)" -- --seed 18446744073709551616
bad 2 "--precision: expected a whole number from 0 to 9" "--precision 10" -- --precision 10
bad 2 "--focus" "--focus 0" -- --focus 0
bad 2 "--vocab-size" "--vocab-size 0" -- --vocab-size 0
bad 2 "--vocab-size" "--vocab-size 262145" -- --vocab-size 262145

# Modes, values on flags that take none, unknown options, stray arguments.
bad 2 "--json cannot be used with --print" "--print --json" -- --print --json
bad 2 "--print cannot be used with --json" "--json --print" -- --json --print
bad 2 "unknown key <Nope>" "--keys with an unknown key name" -- --dump-screen - --keys "<Nope>"
bad 2 "--keys goes with --dump-screen" "--keys alone" -- --keys q
bad 2 "--print: takes no value" "--print=yes" -- --print=yes
bad 2 "--causal: takes no value" "--causal=1" -- --causal=1
bad 2 "unknown option '--bogus'" "--bogus" -- --bogus
bad 2 "unknown option '-x'" "-x" -- -x
bad 2 "unknown option" "--" -- --
bad 2 "unknown option '--bogus'" "--bogus=1 names the unknown option" -- --bogus=1
bad 66 "foo: cannot open" "a LESSON that does not exist" -- foo
bad 2 "unexpected argument 'b.lesson': one LESSON at a time" "two LESSON arguments" -- --print a.lesson b.lesson
bad 2 "--sentence and --sentence-file cannot be used together" "--sentence with --sentence-file" -- \
    --sentence "a b" --sentence-file "$GOOD_FILE"
bad 2 "--token-ids gives 2 ids but the sentence has 3 words" "--token-ids count not matching --sentence" -- \
    --sentence "a b c" --token-ids "1 2"

# Data that does not fit together (65).
bad 65 "heads 3 does not divide d_model 16" "--heads 3 does not divide d-model 16" -- --heads 3
bad 65 "does not divide" "--d-model=10 --heads=4" -- --d-model=10 --heads=4
bad 65 "focus token 6 is outside 1..5" "--focus 6 beyond the sentence" -- --focus 6
bad 65 "outside 1..2" "--focus 3 beyond a 2-word --sentence" -- --sentence "a b" --focus 3
bad 65 "token id 5 (token 2) is not below the vocabulary size 5" "a token id equal to --vocab-size" -- \
    --token-ids "0 5" --vocab-size 5
bad 65 "not below the vocabulary size 1" "--vocab-size below the words" -- --sentence "a b" --vocab-size 1
bad 65 "expected a token id" "--token-ids with a word" -- --token-ids "1 x"
bad 65 "expected a token id" "--token-ids negative" -- --token-ids -1
bad 65 "no token ids given" "--token-ids empty" -- --token-ids ""
bad 65 "empty" "--sentence empty" -- --sentence ""
bad 65 "empty" "--sentence of only spaces" -- --sentence "    "
bad 65 "control character" "--sentence with ESC" -- --sentence "a ${ESC}[31mred"
bad 65 "invalid UTF-8" "--sentence with invalid UTF-8" -- --sentence "caf${FF}"

# Sentence files.
bad 66 "cannot open" "--sentence-file missing" -- --sentence-file "$TMP/missing.txt"
bad 66 "$DIR" "--sentence-file a directory" -- --sentence-file "$DIR"
bad 65 "$UTF8_FILE:3:3: invalid UTF-8" "--sentence-file with invalid UTF-8 on line 3" -- --sentence-file "$UTF8_FILE"
bad 65 "$NUL_FILE:1:3: a NUL byte is not allowed" "--sentence-file with a NUL byte" -- --sentence-file "$NUL_FILE"
bad 65 "$ESC_FILE:2:1: control character" "--sentence-file with ESC on line 2" -- --sentence-file "$ESC_FILE"
bad 65 "$EMPTY_FILE" "--sentence-file empty (the message names the file)" -- --sentence-file "$EMPTY_FILE"
if [ "$(id -u)" -ne 0 ]; then
    SECRET=$TMP/secret.txt
    printf 'a b\n' >"$SECRET"
    chmod 000 "$SECRET"
    bad 66 "cannot open" "--sentence-file unreadable" -- --sentence-file "$SECRET"
else
    ok "--sentence-file unreadable # SKIP running as root, which reads any file"
fi

# Steps: checked by main after the trace is built.
bad 2 "unknown step 'bogus'" "--step with an unknown id" -- --step bogus --print
run --step bogus
missing=""
for id in $STEPS; do
    grep -qF -e "$id" "$ERR" || missing="$missing $id"
done
if [ -z "$missing" ]; then
    ok "--step with an unknown id lists every valid id"
else
    not_ok "--step with an unknown id lists every valid id" "missing:$missing" "$(show "$ERR")"
fi
bad 2 "numbered 1 to $N_STEPS" "--step 0" -- --step 0
bad 2 "numbered 1 to $N_STEPS" "--step $((N_STEPS + 1))" -- --step $((N_STEPS + 1))
bad 2 "step" "--step -1" -- --step=-1

# Whatever the user typed, an error stays one line with no escape sequence.
bad 2 "unknown option" "an unknown option with a newline stays one line" -- "--bo${NL}gus"
bad 2 "unknown option" "an unknown option with ESC is not echoed raw" -- "--${ESC}[2Jx"
bad 2 "--heads" "a number with a newline stays one line" -- --heads "1${NL}2"
bad 2 "unknown step" "a --step with ESC is not echoed raw" -- --step "x${ESC}[2J"
bad 66 "cannot open" "a file path with a newline stays one line" -- --sentence-file "$NEWLINE_PATH"

# ---------------------------------------------------------------------------
# Good paths.

# expect_ok DESCRIPTION: the last run exited 0, wrote something, no stderr.
expect_ok() {
    if [ "$status" -eq 0 ] && [ -s "$OUT" ] && [ ! -s "$ERR" ]; then
        return 0
    fi
    not_ok "$1" "exit status $status, stdout $(wc -c <"$OUT" | tr -d ' ') bytes, stderr: $(show "$ERR")"
    return 1
}

run --print
if expect_ok "--print"; then
    missing=""
    i=0
    for id in $STEPS; do
        i=$((i + 1))
        grep -q "^== Step $i/$N_STEPS: $id (" "$OUT" || missing="$missing $i:$id"
    done
    if [ -z "$missing" ]; then
        ok "--print shows all $N_STEPS steps, in order, by id"
    else
        not_ok "--print shows all $N_STEPS steps, in order, by id" "missing:$missing"
    fi
fi
cp "$OUT" "$TMP/print.txt"

run
if expect_ok "no options prints the walk-through"; then
    if cmp -s "$OUT" "$TMP/print.txt"; then
        ok "no options prints what --print prints"
    else
        not_ok "no options prints what --print prints"
    fi
fi

run --json
if expect_ok "--json"; then
    missing=""
    for id in $STEPS; do
        grep -qF -e "\"$id\"" "$OUT" || missing="$missing $id"
    done
    if [ -z "$missing" ] && dd bs=1 count=1 <"$OUT" 2>/dev/null | grep -q '{' && grep -qF '"attn-trace/1"' "$OUT"; then
        ok "--json is an attn-trace/1 object naming every step"
    else
        not_ok "--json is an attn-trace/1 object naming every step" "missing:$missing" "$(show "$OUT")"
    fi
    if command -v python3 >/dev/null 2>&1; then
        if python3 -c 'import json,sys; json.load(sys.stdin)' <"$OUT" 2>"$TMP/py.err"; then
            ok "--json output parses as JSON"
        else
            not_ok "--json output parses as JSON" "$(head -n 3 "$TMP/py.err")"
        fi
    else
        ok "--json output parses as JSON # SKIP python3 not available"
    fi
fi

run --step softmax --print
if expect_ok "--step softmax --print"; then
    headers=$(grep -c '^== Step ' "$OUT")
    if [ "$headers" -eq 1 ] && grep -q "^== Step 8/$N_STEPS: softmax (" "$OUT"; then
        ok "--step softmax --print shows only step 8"
    else
        not_ok "--step softmax --print shows only step 8" "$headers step headers: $(grep '^== Step ' "$OUT" | head -n 3)"
    fi
    cp "$OUT" "$TMP/softmax.txt"
    run --step=8 --print
    if [ "$status" -eq 0 ] && cmp -s "$OUT" "$TMP/softmax.txt"; then
        ok "--step=8 prints the same as --step softmax"
    else
        not_ok "--step=8 prints the same as --step softmax" "exit status $status"
    fi
fi

run --step softmax --precision 2 --print
if expect_ok "--precision 2"; then
    if grep -qF '4.38' "$OUT" && ! grep -qF '4.3782' "$OUT"; then
        ok "--precision 2 shows two digits"
    else
        not_ok "--precision 2 shows two digits" "$(grep -F '4.3' "$OUT" | head -n 2)"
    fi
fi

run --sentence "The cat saw the dog" --step tokenize --print
if expect_ok "--sentence"; then
    if grep -q '^token ids: 3 0 2 3 1$' "$OUT" && grep -q 'vocab_size 4,' "$OUT"; then
        ok "--sentence 'The cat saw the dog' gives ids 3 0 2 3 1, vocabulary 4"
    else
        not_ok "--sentence 'The cat saw the dog' gives ids 3 0 2 3 1, vocabulary 4" "$(head -n 4 "$OUT")"
    fi
fi

run --sentence-file "$GOOD_FILE" --step tokenize
if expect_ok "--sentence-file"; then
    if grep -q '^token ids: 3 0 2 3 1$' "$OUT"; then
        ok "--sentence-file reads a multi-line file"
    else
        not_ok "--sentence-file reads a multi-line file" "$(head -n 4 "$OUT")"
    fi
fi

run --sentence-file "$BOM_FILE" --step 1
if expect_ok "--sentence-file with a BOM"; then
    if grep -q '^token ids: 0 1$' "$OUT" && grep -q '^sentence: "Hello world' "$OUT"; then
        ok "--sentence-file drops a UTF-8 BOM"
    else
        not_ok "--sentence-file drops a UTF-8 BOM" "$(head -n 3 "$OUT")"
    fi
fi

run --seed 18446744073709551615 --causal --focus 5 --d-model=8 --heads=2 --step weights
if expect_ok "--seed 2^64-1 --causal --focus 5 --d-model=8 --heads=2"; then
    if grep -q 'seed 18446744073709551615' "$OUT" && grep -q 'causal on' "$OUT" &&
        grep -q 'd_model 8, heads 2' "$OUT"; then
        ok "the header shows --seed 2^64-1, --causal, --d-model, --heads"
    else
        not_ok "the header shows --seed 2^64-1, --causal, --d-model, --heads" "$(sed -n 4p "$OUT")"
    fi
fi

run --help
if expect_ok "--help"; then
    # short: the most used flags and a pointer to the manual (which has
    # every flag: tests/docs_test.sh)
    missing=""
    for flag in --print --json --step --sentence --d-model --heads --focus --causal --check --list-lessons \
        --help -h --version -V 'man attn-trace'; do
        grep -qF -e "$flag" "$OUT" || missing="$missing $flag"
    done
    lines=$(wc -l <"$OUT" | tr -d ' ')
    widest=$(awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }' "$OUT")
    if [ -z "$missing" ] && [ "$lines" -le 25 ] && [ "$widest" -le 80 ]; then
        ok "--help exits 0, fits 25 lines of 80 columns, names the main flags and the manual"
    else
        not_ok "--help exits 0, fits 25 lines of 80 columns, names the main flags and the manual" \
            "missing:${missing:- none}; $lines lines, widest $widest"
    fi
    cp "$OUT" "$TMP/help.txt"
    run -h
    if [ "$status" -eq 0 ] && cmp -s "$OUT" "$TMP/help.txt"; then
        ok "-h prints the same as --help"
    else
        not_ok "-h prints the same as --help" "exit status $status"
    fi
fi

run --list-steps
if expect_ok "--list-steps"; then
    if cmp -s "$OUT" "$STEPS_EXPECTED"; then
        ok "--list-steps prints number, id and title of every step, as tests/steps.expected lists them"
    else
        not_ok "--list-steps prints number, id and title of every step, as tests/steps.expected lists them" \
            "$(diff "$STEPS_EXPECTED" "$OUT" | head -n 6)"
    fi
fi

run --version
if expect_ok "--version"; then
    if [ "$(wc -l <"$OUT" | tr -d ' ')" -eq 1 ] && grep -Eq '^attn-trace [0-9]+\.[0-9]+\.[0-9]+' "$OUT"; then
        ok "--version prints 'attn-trace X.Y.Z'"
    else
        not_ok "--version prints 'attn-trace X.Y.Z'" "$(show "$OUT")"
    fi
    cp "$OUT" "$TMP/version.txt"
    run -V
    if [ "$status" -eq 0 ] && cmp -s "$OUT" "$TMP/version.txt"; then
        ok "-V prints the same as --version"
    else
        not_ok "-V prints the same as --version" "exit status $status"
    fi
fi

# ---------------------------------------------------------------------------
# Output that cannot be written.

# closed DESCRIPTION ARGS...: stdout closed: status 1 and one clean line.
closed() {
    desc=$1
    shift
    "$BIN" "$@" >&- 2>"$ERR"
    status=$?
    p=$(stderr_problem "$ERR")
    if [ "$status" -eq 1 ] && [ -z "$p" ]; then
        ok "$desc"
    else
        [ "$status" -eq 1 ] && st="" || st="exit status $status, expected 1"
        not_ok "$desc" "$st${st:+${p:+; }}$p"
    fi
}
closed "--print to a closed stdout: status 1 and a one-line error" --print
closed "--json to a closed stdout: status 1 and a one-line error" --json
closed "--help to a closed stdout: status 1 and a one-line error" --help
closed "--version to a closed stdout: status 1 and a one-line error" --version

if [ -w /dev/full ]; then
    "$BIN" --print >/dev/full 2>"$ERR"
    status=$?
    p=$(stderr_problem "$ERR")
    if [ "$status" -eq 1 ] && [ -z "$p" ]; then
        ok "--print to a full device: status 1 and a one-line error"
    else
        not_ok "--print to a full device: status 1 and a one-line error" "exit status $status; ${p:-one line}"
    fi
else
    ok "--print to a full device # SKIP no /dev/full"
fi

# A reader that stops early: no "broken pipe" error on stderr.
: >"$ERR"
first=$("$BIN" --print 2>"$ERR" | head -n 1)
if [ "$first" = "The article: attention from scratch" ] && [ ! -s "$ERR" ]; then
    ok "--print | head -1 prints the first line and no error"
else
    not_ok "--print | head -1 prints the first line and no error" "first line: $first" \
        "stderr: $(show "$ERR")" "(with SIGPIPE ignored the write fails with EPIPE and main reports it)"
fi

# With no output flag: the walk-through as text when stdout is not a
# terminal, or TERM is dumb or unset (the tracer needs a real terminal).
for term_setting in pipe dumb unset; do
    case $term_setting in
    pipe) first=$("$BIN" 2>"$ERR" </dev/null | head -n 1) ;;
    dumb) first=$(TERM=dumb "$BIN" 2>"$ERR" </dev/null | head -n 1) ;;
    unset) first=$(env -u TERM "$BIN" 2>"$ERR" </dev/null | head -n 1) ;;
    esac
    if [ "$first" = "The article: attention from scratch" ] && [ ! -s "$ERR" ]; then
        ok "no flags, $term_setting: prints the built-in lesson as a handout"
    else
        not_ok "no flags, $term_setting: prints the built-in lesson as a handout" "first line: $first" "stderr: $(show "$ERR")"
    fi
done

# Headless screens: --dump-screen to stdout and to a file give the same text.
DUMP="$TMP/screen.txt"
if "$BIN" --dump-screen "$DUMP" --size 80x24 --step softmax --keys 'j<Enter>' 2>"$ERR" &&
    "$BIN" --dump-screen - --size 80x24 --step softmax --keys 'j<Enter>' 2>>"$ERR" | cmp -s - "$DUMP" &&
    grep -q 'a1\[name\] = <0.001' "$DUMP" && [ "$(wc -l <"$DUMP")" -eq 24 ]; then
    ok "--dump-screen writes the 24-line screen, with the inspector open"
else
    not_ok "--dump-screen writes the 24-line screen, with the inspector open" "stderr: $(show "$ERR")"
fi

# --theme colorblind puts the size glyph after each value (the default
# theme does not), as tests/screens/theme-colorblind-scores.txt shows.
if "$BIN" --no-lesson --dump-screen - --size 80x24 --step scores --theme colorblind 2>"$ERR" |
    grep -q '^my        17\.5128●$' &&
    ! "$BIN" --no-lesson --dump-screen - --size 80x24 --step scores 2>>"$ERR" | grep -q '●'; then
    ok "--theme colorblind: a glyph after each value, none in the default theme"
else
    not_ok "--theme colorblind: a glyph after each value, none in the default theme" "stderr: $(show "$ERR")"
fi

# Lessons: every shipped lesson passes --check; a broken one is reported
# as FILE:LINE:COL with status 65; --print of a lesson is a handout.
LESSON_DIR=$(dirname "$0")/../lessons
if "$BIN" --check "$LESSON_DIR"/*.lesson >"$TMP/check.out" 2>"$ERR" &&
    [ "$(grep -c ': ok: ' "$TMP/check.out")" -ge 5 ] && [ ! -s "$ERR" ]; then
    ok "every shipped lesson passes --check ($(grep -c ': ok: ' "$TMP/check.out") lessons)"
else
    not_ok "every shipped lesson passes --check" "$(show "$ERR")"
fi
BAD="$TMP/bad.lesson"
printf 'attn-lesson: 1\ntitle: A broken lesson\ncolour: red\nheads: 3\n\n## softmx\nText.\n' >"$BAD"
"$BIN" --check "$BAD" >/dev/null 2>"$ERR"
status=$?
if [ "$status" -eq 65 ] && grep -q "^$BAD:3:1: unknown key 'colour'" "$ERR" && grep -q "^$BAD:6:4: unknown step 'softmx'" "$ERR" &&
    grep -q "^$BAD:4:" "$ERR"; then
    ok "--check on a broken lesson: status 65 and every error as FILE:LINE:COL"
else
    not_ok "--check on a broken lesson: status 65 and every error as FILE:LINE:COL" "status $status" "$(show "$ERR")"
fi
# --check takes a lesson's name as the tracer does: found in the lesson
# directories, and the ok line names the file it found; a name found
# nowhere is a file that cannot be read (66).
mkdir -p "$TMP/named"
cp "$LESSON_DIR/why-scale.lesson" "$TMP/named/scaling.lesson"
NAMED="$(cd "$TMP/named" && pwd -P)/scaling.lesson"
if ATTN_TRACE_LESSONS="$TMP/named" "$BIN" --check scaling >"$OUT" 2>"$ERR" &&
    grep -q "^$NAMED: ok: \"Why scale?" "$OUT" && [ ! -s "$ERR" ]; then
    ok "--check NAME finds the lesson in the lesson directories and names its file"
else
    not_ok "--check NAME finds the lesson in the lesson directories and names its file" "$(show "$OUT")" "$(show "$ERR")"
fi
ATTN_TRACE_LESSONS="$TMP/named" "$BIN" --check scaling no-such-lesson >"$OUT" 2>"$ERR"
status=$?
if [ "$status" -eq 66 ] && grep -q "^$NAMED: ok:" "$OUT" &&
    [ "$(cat "$ERR")" = "attn-trace: no-such-lesson: cannot open: No such file or directory" ]; then
    ok "--check with a name found nowhere: one line for it, status 66, the others still checked"
else
    not_ok "--check with a name found nowhere: one line for it, status 66" "status $status" "$(show "$OUT")" \
        "$(show "$ERR")"
fi
# `=` answers follow the flags on top of the lesson: --d-model 32 makes
# =shape(queries) [4, 5, 8]; a flag that breaks one is a data error at its column.
EXPR="$(dirname "$0")/lessons/good-answer-exprs.lesson"
if "$BIN" "$EXPR" --d-model 32 --print --step 2 >"$OUT" 2>"$ERR" && grep -q 'Answer: \[4, 5, 8\]' "$OUT" &&
    grep -q 'Answer: \[5, 8\]' "$OUT"; then
    ok "= answers follow the command line's sizes (--d-model 32: [4, 5, 8])"
else
    not_ok "= answers follow the command line's sizes" "$(show "$OUT")" "$(show "$ERR")"
fi
"$BIN" "$EXPR" --sentence "a b c" --print >/dev/null 2>"$ERR"
status=$?
if [ "$status" -eq 65 ] && grep -q "good-answer-exprs.lesson:16:14: 'Marcello' is not a token of the sentence" "$ERR"; then
    ok "= answer broken by --sentence: status 65, FILE:LINE:COL"
else
    not_ok "= answer broken by --sentence: status 65, FILE:LINE:COL" "status $status" "$(show "$ERR")"
fi
# =changed() follows the flags too: under --causal, why-scale.lesson's counts
# are what the mask leaves to change. Row i of a 5 x 5 causal softmax has
# i + 1 weights that are not 0; row 0's one weight is 1 with or without the
# division, so 0 + 1 + 2 + 3 + 4 = 14 change, 4 of them in marcello's row
# (3), 56 in 4 heads; a1 (token 0's row) does not change at all.
WHY="$(dirname "$0")/../lessons/why-scale.lesson"
if "$BIN" "$WHY" --causal --print >"$OUT" 2>"$ERR" &&
    [ "$(grep 'Answer:' "$OUT" | tr -d ' ' | tr '\n' ' ')" = "Answer:1 Answer:0 Answer:0.624 Answer:14 Answer:4 Answer:is Answer:56 " ]; then
    ok "=changed() answers of why-scale.lesson follow --causal (1, 0, 14, 4, 56)"
else
    not_ok "=changed() answers of why-scale.lesson follow --causal" "$(grep 'Answer:' "$OUT")" "$(show "$ERR")"
fi
if "$BIN" --no-lesson --dump-screen - --size 80x24 --keys "xcausal kv-cache<Enter>G" >"$OUT" 2>"$ERR" &&
    grep -q "step 18/18" "$OUT" && grep -q "kv_output = head_outputs\[:,4,:\], bit for bit; changed by causal kv-cache" "$OUT"; then
    ok "x causal kv-cache, G: the decode step, bit for bit (--dump-screen)"
else
    not_ok "x causal kv-cache, G: the decode step, bit for bit" "$(show "$OUT")" "$(show "$ERR")"
fi
if "$BIN" --no-lesson --dump-screen - --size 80x24 --keys "xkv-cache<Enter>" >"$OUT" 2>"$ERR" &&
    grep -q "kv-cache decodes on the causal trace only: type causal kv-cache" "$OUT" && grep -q "step 1/17" "$OUT"; then
    ok "x kv-cache on the article's trace: one line, nothing changed (--dump-screen)"
else
    not_ok "x kv-cache on the article's trace: one line, nothing changed" "$(show "$OUT")" "$(show "$ERR")"
fi
# Issue 12: a step's own headline ('::: step' block) replaces its title line
# on screen (80x24, 50x12) and in --print.
STEPB="$(dirname "$0")/lessons/good-step-block.lesson"
if "$BIN" "$STEPB" --dump-screen - >"$OUT" 2>"$ERR" && sed -n 2p "$OUT" | grep -q '^ Softmax up close: who does "my" listen to?' &&
    "$BIN" "$STEPB" --dump-screen - --size 50x12 >"$OUT" 2>"$ERR" && sed -n 2p "$OUT" | grep -q '^ Softmax up close: who does "my" listen to?$' &&
    "$BIN" "$STEPB" --print >"$OUT" 2>"$ERR" && grep -qx 'Softmax up close: who does "my" listen to?' "$OUT"; then
    ok "a step's headline on screen (80x24, 50x12) and in --print"
else
    not_ok "a step's headline on screen and in --print" "$(show "$OUT")" "$(show "$ERR")"
fi
# Issue 12: select: opens a step on the panel and cell it names.
if "$BIN" "$STEPB" --step mh_softmax --dump-screen - >"$OUT" 2>"$ERR" && grep -q '^ attention_weights\[2\]\[marcello\]\[is\] = ' "$OUT" &&
    "$BIN" "$STEPB" --step mh_softmax --dump-screen - --size 50x12 >"$OUT" 2>"$ERR" &&
    grep -q '^ attention_weights\[2\]\[marcello\]\[is\] = ' "$OUT"; then
    ok "select: the step opens on attention_weights[2][marcello][is] (80x24, 50x12)"
else
    not_ok "select: the step opens on the cell it names" "$(show "$OUT")" "$(show "$ERR")"
fi
# Issue 12: a lesson's '## intro' opens before its first step, at 80x24 and
# 50x12; Space closes it and the first step's before quiz opens.
INTRO="$(dirname "$0")/lessons/good-intro.lesson"
if "$BIN" "$INTRO" --dump-screen - >"$OUT" 2>"$ERR" && grep -q 'Intro test (Space or Esc starts)' "$OUT" &&
    grep -q 'Welcome. This lesson follows one token.' "$OUT" &&
    "$BIN" "$INTRO" --dump-screen - --size 50x12 >"$OUT" 2>"$ERR" && grep -q 'Welcome. This lesson follows one token.' "$OUT" &&
    "$BIN" "$INTRO" --dump-screen - --size 50x12 --keys '<Space>' >"$OUT" 2>"$ERR" && grep -q 'Question 1 of 1' "$OUT" &&
    ! grep -q 'Welcome' "$OUT"; then
    ok "the intro page opens first (80x24, 50x12); Space goes on to the first step's before quiz"
else
    not_ok "the intro page opens first; Space goes on to the first step's before quiz" "$(show "$OUT")" "$(show "$ERR")"
fi
# Issue 12: the teacher's copy (--notes) and the student's handout (--no-answers).
if "$BIN" "$LESSON_DIR/multi-head.lesson" --print --notes >"$OUT" 2>"$ERR" &&
    grep -q '^  Presenter notes:' "$OUT" && grep -q 'Answer: \[4, 5, 4\]   (read from the trace: =shape(queries))' "$OUT"; then
    ok "--print --notes: presenter notes and each = answer's expression"
else
    not_ok "--print --notes: presenter notes and each = answer's expression" "$(show "$OUT")" "$(show "$ERR")"
fi
if "$BIN" "$LESSON_DIR/multi-head.lesson" --print --no-answers >"$OUT" 2>"$ERR" &&
    [ "$(grep -c '^     Answer: ______________________$' "$OUT")" -eq 6 ] && ! grep -q 'Answer: \[' "$OUT" &&
    ! grep -q 'Presenter notes' "$OUT"; then
    ok "--print --no-answers: six questions, no answer"
else
    not_ok "--print --no-answers: six questions, no answer" "$(show "$OUT")" "$(show "$ERR")"
fi
if "$BIN" --print "$LESSON_DIR/causal-mask.lesson" >"$TMP/handout.txt" 2>"$ERR" &&
    grep -q '^== Questions' "$TMP/handout.txt" && grep -q 'Answer: ' "$TMP/handout.txt" &&
    ! grep -q ':::' "$TMP/handout.txt"; then
    ok "--print of a lesson is a handout: its texts, then its questions with answers"
else
    not_ok "--print of a lesson is a handout" "$(show "$ERR")"
fi

# Issue 12: --step with a lesson counts the lesson's walk and refuses a step it does not walk.
bad 2 "--step embed: the lesson does not walk that step (it walks scores, scale" "--step: a step the lesson does not walk" -- \
    --print --step embed "$LESSON_DIR/causal-mask.lesson"
bad 2 "--step 9: the lesson's steps are numbered 1 to 7" "--step: a number past the lesson's walk" -- \
    --print --step 9 "$LESSON_DIR/causal-mask.lesson"
if "$BIN" --print --step 2 "$LESSON_DIR/causal-mask.lesson" >"$TMP/step2.txt" 2>"$ERR" &&
    grep -q '^== Step 2/7: scale ' "$TMP/step2.txt" && [ "$(grep -c '^== Step' "$TMP/step2.txt")" -eq 1 ]; then
    ok "--print --step 2 with a lesson prints the lesson's second step (scale), alone"
else
    not_ok "--print --step 2 with a lesson prints the lesson's second step" "$(head -12 "$TMP/step2.txt")" "$(show "$ERR")"
fi
if "$BIN" --dump-screen "$TMP/s.txt" --size 80x24 --step 2 "$LESSON_DIR/causal-mask.lesson" 2>"$ERR" &&
    grep -q 'step 2/7' "$TMP/s.txt" && grep -q 'Scale the scores' "$TMP/s.txt"; then
    ok "--step 2 with a lesson opens the tracer on the walk's step 2/7"
else
    not_ok "--step 2 with a lesson opens the tracer on the walk's step 2/7" "$(head -3 "$TMP/s.txt")"
fi

# Issue 12: --list-lessons keeps its columns in line with long or non-ASCII names.
mkdir -p "$TMP/cat"
cp "$LESSON_DIR/article.lesson" "$TMP/cat/a-very-long-lesson-name-indeed.lesson"
cp "$LESSON_DIR/causal-mask.lesson" "$TMP/cat/$(printf '\303\251t\303\251').lesson"
if ATTN_TRACE_LESSONS="$TMP/cat" "$BIN" --list-lessons >"$TMP/list.txt" 2>"$ERR" &&
    grep -qx '                   The article: attention from scratch' "$TMP/list.txt" &&
    grep -q "^  $(printf '\303\251t\303\251')              Causal masking" "$TMP/list.txt"; then
    ok "--list-lessons: a long name on its own line, a non-ASCII one padded by its width"
else
    not_ok "--list-lessons keeps its columns in line" "$(head -8 "$TMP/list.txt")"
fi
# A title too long for 80 columns ends in an ellipsis; a broken lesson's
# long name is on its own line too.
sed 's/^title: .*/title: A title that goes on and on well past the end of an eighty-column terminal line/' \
    "$LESSON_DIR/causal-mask.lesson" >"$TMP/cat/long-title.lesson"
printf 'attn-lesson: 1\ntitle: T\nheds: 2\n' >"$TMP/cat/a-broken-lesson-with-a-long-name.lesson"
if ATTN_TRACE_LESSONS="$TMP/cat" "$BIN" --list-lessons >"$TMP/list.txt" 2>"$ERR" &&
    grep -qx '  long-title       A title that goes on and on well past the end of an eighty-c…' "$TMP/list.txt" &&
    grep -qx '  a-broken-lesson-with-a-long-name' "$TMP/list.txt" &&
    grep -q '^                   (has errors: ' "$TMP/list.txt"; then
    ok "--list-lessons: a long title cut with an ellipsis at 80 columns, a broken lesson's long name in line"
else
    not_ok "--list-lessons: a long title cut with an ellipsis at 80 columns" "$(head -12 "$TMP/list.txt")"
fi

# ---------------------------------------------------------------------------
# Performance options: --tokens, --kernels, --threads, --bench, --bench-frames.
bad 2 "unknown key <Foo> (the names are listed under --keys in man attn-trace)" "an unknown key name points to the manual" -- --dump-screen - --keys '<Foo>'
bad 2 "--tokens: expected a whole number from 1 to 4096" "--tokens 0" -- --tokens 0
bad 2 "--tokens: expected a whole number from 1 to 4096" "--tokens 4097" -- --tokens 4097
bad 2 "--kernels: expected auto, fast or reference" "--kernels bogus" -- --kernels bogus
bad 2 "--threads: expected a whole number from 1 to 64" "--threads 0" -- --threads 0
bad 2 "--threads: expected a whole number from 1 to 64" "--threads 65" -- --threads 65
bad 2 "--bench: expected a whole number from 1 to 10000" "--bench 0" -- --bench 0
bad 2 "--bench: needs a value" "--bench without a count" -- --bench
bad 2 "--json cannot be used with --bench" "--bench with --json" -- --bench 2 --json
bad 2 "--bench-frames cannot be used with --print" "--bench-frames with --print" -- --print --bench-frames
bad 2 "--keys goes with --dump-screen" "--keys without a headless mode" -- --bench 2 --keys q
bad 65 "focus token 4 is outside 1..2" "--tokens cuts below the focus" -- --tokens 2 --focus 4

run --tokens 12 --json
if expect_ok "--tokens 12 --json" && grep -q '"sentence": "my name is marcello politi my name is marcello politi my name"' "$OUT" &&
    grep -q '"token_ids": \[2, 6, 8, 3, 1, 2, 6, 8, 3, 1, 2, 6\]' "$OUT"; then
    ok "--tokens 12 repeats the article's words and ids to 12 tokens"
else
    not_ok "--tokens 12 repeats the article's words and ids to 12 tokens" "$(grep -m2 -E '"sentence"|"token_ids"' "$OUT" | tr '\n' ' ')"
fi

run --bench 3 --tokens 20 --d-model 32 --heads 4
kept=$(sed -n 's/^bench: kept \([0-9]*\) tensors, [0-9.]* MiB (copies kept twice: [0-9.]* MiB); peak RSS [0-9.]* MiB, [0-9.]*x the kept bytes$/\1/p' "$OUT")
if expect_ok "--bench 3" && [ -n "$kept" ] && [ "$(grep -c '^bench: kept   ' "$OUT")" -eq "$kept" ] &&
    [ "$(wc -l <"$OUT")" -eq $((20 + kept)) ] &&
    grep -Eq '^bench: kept   multi_head .* MiB   sentence_embed   \(the same values as single_head sentence_embed\)$' "$OUT" &&
    grep -Eq '^bench: trace median [0-9]+\.[0-9]+ ms over 3 runs \(s=20 d=32 h=4\)$' "$OUT" &&
    grep -Eq '^bench: kernels exact \((avx2|portable C)\), [0-9]+ threads?; [0-9.]+ GFLOP, [0-9.]+ GFLOP/s; .*peak RSS [0-9.]+ MiB for [0-9.]+ MiB of tensors$' "$OUT" &&
    grep -Eq '^  step  1 tokenize +[0-9]+\.[0-9]+ ms$' "$OUT" && grep -Eq "^  step $N_STEPS $LAST_STEP +[0-9]+\\.[0-9]+ ms\$" "$OUT"; then
    ok "--bench 3: the median line, the kernels line, one line per step and per kept tensor, the sum"
else
    not_ok "--bench 3: the median line, the kernels line, one line per step and per kept tensor, the sum" "$(show "$OUT")"
fi

run --bench 2 --tokens 8 --d-model 16 --heads 2 --kernels fast --threads 2
if expect_ok "--bench with --kernels fast" && grep -Eq '^bench: kernels fast \((avx2\+fma|portable C)\), 2 threads;' "$OUT"; then
    ok "--bench --kernels fast --threads 2 says which kernels and threads ran"
else
    not_ok "--bench --kernels fast --threads 2 says which kernels and threads ran" "$(show "$OUT")"
fi

run --bench-frames --size 80x24 --keys 'jjl<Space><Enter><Esc>'
if expect_ok "--bench-frames" &&
    grep -Eq '^bench-frames: 80x24, 7 frames, median [0-9.]+ ms, p99 [0-9.]+ ms, max [0-9.]+ ms \(s=5 d=16 h=4\)$' "$OUT" &&
    grep -Eq '^  step  1 tokenize +4 frames' "$OUT" && grep -Eq '^  step  2 embed +3 frames' "$OUT"; then
    ok "--bench-frames --keys: one frame per key plus the first, counted per step"
else
    not_ok "--bench-frames --keys: one frame per key plus the first, counted per step" "$(show "$OUT")"
fi

run --bench-frames
if expect_ok "--bench-frames" && grep -Eq '^bench-frames: 120x40, [0-9]+ frames' "$OUT" && [ "$(grep -c '^  step ' "$OUT")" -eq "$N_STEPS" ]; then
    ok "--bench-frames walks every step at 120x40 by default"
else
    not_ok "--bench-frames walks every step at 120x40 by default" "$(show "$OUT")"
fi

run --json --kernels reference
cp "$OUT" "$TMP/reference.json"
run --json --kernels auto
if expect_ok "--kernels auto" && cmp -s "$OUT" "$TMP/reference.json"; then
    ok "--kernels auto (the exact kernels) gives the reference kernels' bits (identical JSON)"
else
    not_ok "--kernels auto (the exact kernels) gives the reference kernels' bits (identical JSON)"
fi
run --print --kernels fast --threads 3 --step all_tokens
if expect_ok "--kernels fast --print" && grep -q 'attention_weights' "$OUT"; then
    ok "--kernels fast --threads 3 computes and prints the trace"
else
    not_ok "--kernels fast --threads 3 computes and prints the trace" "$(show "$ERR")"
fi

# A GPT-2 checkpoint (--model): every output of a model trace. The numbers
# themselves are checked against PyTorch by check_model_trace.c.
GM=$(cd "$(dirname "$0")" && pwd)/fixtures/gpt2/d32_h4_l3_f32_prefix
run --model "$GM" --token-ids "5 17 3 60" --layer 2 --list-steps
if expect_ok "--model --list-steps" && [ "$(cut -f2 "$OUT" | tr '\n' ' ')" = "gpt2_tokens gpt2_embed gpt2_blocks gpt2_ln_1 \
gpt2_qkv gpt2_heads gpt2_scores gpt2_softmax gpt2_weighted_sum gpt2_concat gpt2_c_proj gpt2_next_token " ]; then
    ok "--list-steps with --model lists the model's 12 steps, numbered as --step counts them"
else
    not_ok "--list-steps with --model lists the model's 12 steps, numbered as --step counts them" "$(show "$OUT")"
fi
run --model "$GM" --token-ids "5 17 3 60" --layer 2 --json
if expect_ok "--model --json" && grep -q '"model": ".*d32_h4_l3_f32_prefix"' "$OUT" && grep -q '"layer": 2,' "$OUT" &&
    grep -q '"n_layer": 3' "$OUT" && grep -q '"part": "model"' "$OUT" && ! grep -q '"part": "single_head"' "$OUT"; then
    ok "--model --json: config has model, layer and n_layer; every step is part 3"
else
    not_ok "--model --json: config has model, layer and n_layer; every step is part 3" "$(show "$OUT")"
fi
run --model "$GM" --token-ids "5 17 3 60" --layer 1 --print --step gpt2_qkv
if expect_ok "--model --print" && grep -q '^== Step 5/12: gpt2_qkv (model) ' "$OUT" &&
    grep -q 'qkv = ln_1 · W + b, W = h.1.attn.c_attn.weight \[32, 96\]' "$OUT"; then
    ok "--model --print --step gpt2_qkv: the fused product with the checkpoint's name and shape"
else
    not_ok "--model --print --step gpt2_qkv: the fused product with the checkpoint's name and shape" "$(show "$OUT")"
fi
run --model "$GM" --token-ids "5 17 3 60" --export-npy "$TMP/model-npy"
if [ "$status" -eq 0 ] && [ "$(ls "$TMP/model-npy" | wc -l)" -eq 28 ] && [ -s "$TMP/model-npy/model.qkv.npy" ] &&
    [ -s "$TMP/model-npy/model.c_attn.weight.npy" ] && [ -s "$TMP/model-npy/model.c_proj.bias.npy" ] &&
    [ -s "$TMP/model-npy/model.next_token_probs.npy" ]; then
    ok "--model --export-npy writes the model's 28 tensors as model.NAME.npy"
else
    not_ok "--model --export-npy writes the model's 28 tensors as model.NAME.npy" "$(ls "$TMP/model-npy" 2>&1)"
fi
run --model "$GM" --token-ids "5 17 3 60" --svg -
if expect_ok "--model --svg" && grep -q 'gpt2_softmax' "$OUT" && grep -q '</svg>' "$OUT"; then
    ok "--model --svg draws the model's attention weights"
else
    not_ok "--model --svg draws the model's attention weights" "$(show "$ERR")"
fi
run --model "$GM" --token-ids "5 17 3 60" --dump-screen - --size 80x24 --keys "<Space><Space><Space><Space><Space><Space>"
if expect_ok "--model --dump-screen" && grep -q 'part 3: GPT-2  step 7/11' "$OUT" && grep -q 'scores \[4, 4, 4\]' "$OUT"; then
    ok "--model --dump-screen: the tracer opens on a model trace at 80x24"
else
    not_ok "--model --dump-screen: the tracer opens on a model trace at 80x24" "$(show "$OUT")"
fi

# A panel with no room for a row says so; its title never counts rows
# backwards (it said "rows 0-18446744073709551615" before).
"$BIN" --no-lesson --tokens 512 --d-model 768 --heads 12 --step keys_values --size 80x24 \
    --dump-screen "$OUT" >/dev/null 2>&1
if grep -q "sentence_embed \[512, 768\] (input), no room for its 512 rows" "$OUT" &&
    ! grep -q "18446744073709551615" "$OUT"; then
    ok "a panel with no room for its rows says so in its title"
else
    not_ok "a panel with no room for its rows says so in its title" "$(show "$OUT")"
fi

# Ctrl-T on the step screen asks a skipped question again (issue 12: retry
# one quiz without --restart); a step without a question says so.
RETRY_STATE=$(mktemp -d)
XDG_STATE_HOME=$RETRY_STATE "$BIN" --restart --size 80x24 --keys "<Space><Esc><C-t>" --dump-screen "$OUT" \
    >/dev/null 2>&1
XDG_STATE_HOME=$RETRY_STATE "$BIN" --no-lesson --size 80x24 --keys "<C-t>" --dump-screen "$OUT.none" >/dev/null 2>&1
if grep -q "Question 1 of 1" "$OUT" && grep -q "Predict first" "$OUT" &&
    grep -q "this step has no quiz to ask again" "$OUT.none"; then
    ok "Ctrl-T on a step asks its skipped question again"
else
    not_ok "Ctrl-T on a step asks its skipped question again" "$(show "$OUT")"
fi
rm -rf "$RETRY_STATE" "$OUT.none"

printf 'cli: %s passed, %s failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# line_mode_test.sh - drives attn-trace --line-mode with the command files
# in tests/line-mode/ (NAME.cmds; NAME.args holds the options, when any:
# without one, --no-lesson; an empty one walks the built-in lesson) and
# compares each transcript with NAME.expected byte for byte. Each case
# runs from the top of the tree with its own progress directory
# (XDG_STATE_HOME), except that cases named BASE.1, BASE.2, ... share
# BASE's and run in that order, so a later one resumes what an earlier one
# saved. Also checks that no transcript holds an escape or other control
# byte, that the article's attention weights read out are the values real
# PyTorch prints (tests/make_fixtures.py's check_article), that the
# progress file line mode saves is the tracer's format with the quiz
# results the transcript shows, and that the end of the input without
# "quit" ends the mode with status 0.
#
#   tests/line_mode_test.sh build/attn-trace
#
# Regenerate a golden file after a deliberate change (then review the diff):
#   ATTN_UPDATE_LINE_MODE=1 tests/line_mode_test.sh build/attn-trace

BIN=${1:-build/attn-trace}
case $BIN in
    */*) ;;
    *) BIN=./$BIN ;;
esac
if [ ! -x "$BIN" ]; then
    echo "line_mode_test.sh: $BIN is not an executable (build it with make build-bin)" >&2
    exit 2
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/tap.sh"
LC_ALL=C.UTF-8
export LC_ALL
TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-line-mode-test.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT

for cmds in "$HERE"/line-mode/*.cmds; do
    name=$(basename "$cmds" .cmds)
    args="--no-lesson"
    [ -f "$HERE/line-mode/$name.args" ] && args=$(cat "$HERE/line-mode/$name.args")
    state="$TMP/state-${name%%.*}"
    # shellcheck disable=SC2086 # the options are words
    (cd "$HERE/.." && XDG_STATE_HOME=$state "$BIN" $args --line-mode) <"$cmds" >"$TMP/$name.out" 2>"$TMP/$name.err"
    status=$?
    if [ -n "$ATTN_UPDATE_LINE_MODE" ]; then
        cp "$TMP/$name.out" "$HERE/line-mode/$name.expected"
    fi
    if [ "$status" -eq 0 ] && cmp -s "$TMP/$name.out" "$HERE/line-mode/$name.expected"; then
        ok "$name: the transcript is the golden one"
    else
        not_ok "$name: the transcript is the golden one" "status $status: $(show "$TMP/$name.err")" \
            "$(diff "$HERE/line-mode/$name.expected" "$TMP/$name.out" | head -20)"
    fi
    if LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$TMP/$name.out"; then
        not_ok "$name: no escape or control byte" "$(LC_ALL=C grep -n "$(printf '[\001-\010\013-\037\177]')" \
            "$TMP/$name.out" | head -3 | sed -n l)"
    else
        ok "$name: no escape or control byte"
    fi
done

# The article's a1, as real PyTorch prints it: 0.5839, 7.9161e-05, 4.5719e-04, 0.032865, 0.38266.
want="  my        [5.8394e-01]
  name      [7.9161e-05]
  is        [4.5719e-04]
  marcello  [3.2865e-02]
  politi    [3.8266e-01]"
if grep -A5 '^> show a1$' "$TMP/article.out" | tail -n 5 | cmp -s - "$(printf '%s\n' "$want" >"$TMP/a1"; echo "$TMP/a1")"; then
    ok "show a1 reads out PyTorch's weights for the article"
else
    not_ok "show a1 reads out PyTorch's weights for the article" "$(grep -A5 '^> show a1$' "$TMP/article.out")"
fi

# resume.1 answered the causal-mask lesson's quizzes right (first try),
# skipped one, got one right after two tries, and stopped at step 4;
# resume.2 went on to step 7. The file is progress.c's format, which the
# tracer reads.
progress=$(cat "$TMP"/state-resume/attn-trace/*.progress 2>/dev/null)
if printf '%s\n' "$progress" | grep -qx 'last_step: 6' &&
    printf '%s\n' "$progress" | grep -qx 'quizzes: F S T U U U' &&
    printf '%s\n' "$progress" | head -n 1 | grep -qx 'attn-trace-progress 1'; then
    ok "line mode saves progress in the tracer's format"
else
    not_ok "line mode saves progress in the tracer's format" "$progress"
fi

# docs/accessibility.md's transcript is a run of lines of its golden file.
doc="$HERE/../docs/accessibility.md"
sed -n '/^<!-- transcript: resume.1 -->$/,/^<!-- \/transcript -->$/p' "$doc" | sed '1,2d;$d' | sed '$d' >"$TMP/doc.txt"
if [ -s "$TMP/doc.txt" ] && awk -v want="$(cat "$TMP/doc.txt")" '{ all = all $0 "\n" } END { exit index(all, want "\n") == 0 }' \
    "$HERE/line-mode/resume.1.expected"; then
    ok "docs/accessibility.md's transcript is in resume.1.expected"
else
    not_ok "docs/accessibility.md's transcript is in resume.1.expected" "$(head -3 "$TMP/doc.txt")"
fi

printf 'next\nnext\n' | "$BIN" --no-lesson --line-mode >"$TMP/eof.out" 2>&1
status=$?
if [ "$status" -eq 0 ] && grep -q '^Step 3 of 17: weights' "$TMP/eof.out"; then
    ok "the end of the input ends line mode, status 0"
else
    not_ok "the end of the input ends line mode, status 0" "status $status: $(show "$TMP/eof.out")"
fi

echo "line-mode: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

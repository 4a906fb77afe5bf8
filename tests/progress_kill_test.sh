#!/bin/sh
# progress_kill_test.sh - proves that killing attn-trace in the middle of
# saving progress leaves the old progress file whole.
#
#   tests/progress_kill_test.sh build/progress-writer
#
# build/progress-writer (tests/progress_writer.c) saves one lesson's
# progress in a loop, alternating two versions A and B. Each round starts
# it, kills it with SIGKILL after a random delay (0-40 ms) and checks that
# the progress file is absent (only before any save completed) or exactly A
# or B - never a mix or a part - and that at most one temporary file is
# left (the killed one's: each save removes those of killed saves). At the
# end one more save must leave no temporary file at all.
#
# Prints TAP-style "ok N - ..." / "not ok N - ..." lines, then
# "progress: N passed, M failed"; exits 1 when any check failed, 77 when
# sleep cannot wait for fractions of a second. PROGRESS_KILL_ROUNDS
# (default 50) and PROGRESS_KILL_SEED (default: the time) change the run.

WRITER=${1:-build/progress-writer}
case $WRITER in
    */*) ;;
    *) WRITER=./$WRITER ;;
esac
if [ ! -x "$WRITER" ]; then
    echo "progress_kill_test.sh: $WRITER is not an executable (build it with make build-tests)" >&2
    exit 2
fi
if ! sleep 0.001 2>/dev/null; then
    echo "progress_kill_test.sh: this sleep cannot wait fractions of a second; skipped" >&2
    exit 77
fi

LC_ALL=C
export LC_ALL

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-progress-kill.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
DIR=$TMP/state/attn-trace

ROUNDS=${PROGRESS_KILL_ROUNDS:-50}
SEED=${PROGRESS_KILL_SEED:-$(date +%s)}

. "$(dirname "$0")/tap.sh"

# Sets temps to the number of temporary files in $DIR.
count_temps() {
    temps=0
    for f in "$DIR"/.*.progress.*; do
        [ -e "$f" ] && temps=$((temps + 1))
    done
}

# Sets state to A, B, absent, or "unusable: ..." as the writer's --check sees it.
check_state() {
    state=$("$WRITER" --check "$DIR" 2>&1)
    check_status=$?
}

echo "# seed $SEED, $ROUNDS rounds"

# 0. Before anything: nothing saved.
check_state
if [ "$check_status" -eq 3 ] && [ "$state" = absent ]; then
    ok "before any save the progress is absent"
else
    not_ok "before any save the progress is absent" "got status $check_status: $state"
fi

# 1. The rounds. The first kills at once, usually before the first save.
delays=$(awk -v n="$ROUNDS" -v seed="$SEED" 'BEGIN {
    srand(seed); print "0"
    for (i = 2; i <= n; i++) printf "%.3f\n", 0.001 + rand() * 0.039 }')
seen=no
round=0
n_absent=0 n_a=0 n_b=0 n_temp=0
for delay in $delays; do
    round=$((round + 1))
    "$WRITER" "$DIR" 2>"$TMP/writer.err" &
    pid=$!
    [ "$delay" = 0 ] || sleep "$delay"
    if ! kill -9 "$pid" 2>/dev/null; then
        wait "$pid"
        not_ok "round $round: the writer was still saving when killed" \
            "it exited by itself with status $?: $(cat "$TMP/writer.err")"
        continue
    fi
    wait "$pid" 2>/dev/null
    count_temps
    check_state
    what="round $round: killed after ${delay}s"
    case $state in
        A | B)
            seen=yes
            [ "$state" = A ] && n_a=$((n_a + 1))
            [ "$state" = B ] && n_b=$((n_b + 1))
            result=ok
            ;;
        absent)
            n_absent=$((n_absent + 1))
            if [ "$seen" = no ]; then result=ok; else result="a saved file vanished"; fi
            ;;
        *)
            result="the file is damaged: $state"
            ;;
    esac
    [ "$temps" -gt 0 ] && n_temp=$((n_temp + 1))
    if [ "$result" = ok ] && [ "$temps" -le 1 ]; then
        ok "$what: the file is $state, $temps temporary file(s) left"
    elif [ "$result" = ok ]; then
        not_ok "$what: at most one temporary file is left" "$temps of them: $(ls -a "$DIR" | tr '\n' ' ')"
    else
        not_ok "$what: the file is absent, A or B" "$result"
    fi
done
echo "# outcomes: $n_a A, $n_b B, $n_absent absent; a temporary file was left (killed mid-save) in $n_temp rounds"

# 2. One more save leaves no temporary file, and the file is A.
if "$WRITER" --once "$DIR" 2>"$TMP/writer.err"; then
    count_temps
    check_state
    if [ "$temps" -eq 0 ] && [ "$state" = A ]; then
        ok "a save after the kills removes every temporary file"
    else
        not_ok "a save after the kills removes every temporary file" "$temps left, the file is $state" \
            "$(ls -a "$DIR" | tr '\n' ' ')"
    fi
else
    not_ok "a save after the kills removes every temporary file" "the save failed: $(cat "$TMP/writer.err")"
fi

echo "progress: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# tui_test.sh - drives the real interactive tracer (attn-trace --tui) in a
# private tmux server and checks what a user sees: the first step, walking
# every step, the overlays, keys, resizing, colours, quitting, and that the
# terminal is left sane after q, signals and Ctrl-Z.
#
#   tests/tui_test.sh build/attn-trace
#
# The painted screen is compared with the headless replay of the same keys
# (--dump-screen), so every cell the terminal backend paints is checked
# against the frame the composer made.
#
# Prints TAP-style "ok N - ..." / "not ok N - ..." lines, then
# "tui: N passed, M failed"; exits 1 when any check failed. Without tmux it
# prints "tui: skipped: tmux not installed" and exits 77. The screen is
# polled (capture-pane) with a timeout instead of sleeping fixed times.

BIN=${1:-build/attn-trace}
case $BIN in
    /*) ;;
    *) BIN=$(pwd)/$BIN ;;
esac
if [ ! -x "$BIN" ]; then
    echo "tui_test.sh: $BIN is not an executable (build it with make build-bin)" >&2
    exit 2
fi
if ! command -v tmux >/dev/null 2>&1; then
    echo "tui: skipped: tmux not installed"
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-tui-test.XXXXXX") || exit 2
SOCKET=attn-test-$$
unset TMUX

# tmx ARGS...: tmux on the private server (no user configuration).
tmx() {
    tmux -L "$SOCKET" -f /dev/null "$@"
}

cleanup() {
    tmx kill-server >/dev/null 2>&1
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The tracer draws plain ASCII lines when the locale is not UTF-8, and the
# terminal can only show what the locale can encode; the headless dump is
# always UTF-8 unless --ascii. Run everything (tmux, the tracer, the dumps)
# in a UTF-8 locale when there is one, else give both --ascii.
# --no-lesson: these cases walk the bare 17 steps; the built-in lesson's
# quizzes (which stop the walk) have their own case at the end.
FLAGS="--no-lesson"
case $(locale charmap 2>/dev/null) in
    UTF-8 | utf8) ;;
    *)
        utf8_locale=$(locale -a 2>/dev/null | grep -i -E '^(c|en_us)\.utf-?8$' | head -n 1)
        if [ -n "$utf8_locale" ]; then
            LC_ALL=$utf8_locale
            export LC_ALL
        else
            FLAGS="--no-lesson --ascii"
        fi
        ;;
esac

. "$(dirname "$0")/tap.sh"

# check STATUS DESCRIPTION [DIAGNOSTIC...]: ok when STATUS is 0.
check() {
    status=$1
    shift
    if [ "$status" -eq 0 ]; then
        ok "$1"
    else
        not_ok "$@"
    fi
}

# What the screen shows, as text (into $TMP/screen).
capture() {
    tmx capture-pane -p -t attn >"$TMP/screen" 2>/dev/null
}

# The last capture, for diagnostics.
show_screen() {
    sed 's/^/| /' "$TMP/screen"
}

# The last capture against what was expected, for diagnostics.
show_diff() {
    diff "$TMP/expected" "$TMP/screen" | head -20
}

# poll COMMAND...: runs COMMAND (after a fresh capture) every 0.05 s until
# it succeeds, for at most 5 s. Returns its last status.
poll() {
    tries=0
    while :; do
        capture
        if "$@"; then
            return 0
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 100 ]; then
            return 1
        fi
        sleep 0.05
    done
}

# Conditions for poll, on the last capture.
shows() { grep -F -q -- "$1" "$TMP/screen"; }
shows_i() { grep -F -i -q -- "$1" "$TMP/screen"; }
lacks() { ! grep -F -q -- "$1" "$TMP/screen"; }
matches_expected() { cmp -s "$TMP/expected" "$TMP/screen"; }

# The value of a tmux format for the pane (#{alternate_on}, #{cursor_flag}).
pane_format() {
    tmx display-message -p -t attn "$1" 2>/dev/null
}

# Keys sent to the running tracer so far, in --keys notation.
HISTORY=""
ARGS=""

# send TMUX_KEY VIM_KEY: types a key into the tracer and records it.
send() {
    tmx send-keys -t attn "$1"
    HISTORY=$HISTORY$2
}

# expect_dump WxH: the headless screen for the keys so far at that size,
# into $TMP/expected. Returns 1 when the dump fails.
expect_dump() {
    # shellcheck disable=SC2086 # ARGS and FLAGS are lists of flags
    "$BIN" $ARGS $FLAGS --size "$1" --keys "${HISTORY:-<C-l>}" --dump-screen - >"$TMP/expected" 2>"$TMP/dump.err"
}

# screen_is WxH DESCRIPTION: waits until the pane shows what the headless
# dump shows for the keys so far, and reports.
screen_is() {
    if ! expect_dump "$1"; then
        not_ok "$2" "--dump-screen failed: $(cat "$TMP/dump.err")"
        return 1
    fi
    poll matches_expected
    check $? "$2" "keys: $HISTORY" "$(show_diff)"
}

# The wrapper every case runs in the pane: the program in its own process
# (its pid in $TMP/pid, its stdout to the terminal or, when $OUT is a file
# name, to that file), then its exit status and the terminal's modes (stty
# -a, run in the same terminal) once it has ended. The wrapper catches
# SIGINT so that Ctrl-C ends only the program.
cat >"$TMP/run.sh" <<'EOF'
#!/bin/sh
TMP=$1
OUT=$2
BIN=$3
shift 3
trap ':' INT
TERM=xterm-256color
export TERM
if [ "$OUT" = - ]; then
    sh -c 'echo $$ >"$1/pid"; shift; exec "$@"' sh "$TMP" "$BIN" "$@"
else
    sh -c 'echo $$ >"$1/pid"; shift; exec "$@"' sh "$TMP" "$BIN" "$@" >"$OUT"
fi
status=$?
stty -a >"$TMP/stty" 2>&1
echo "exit=$status" >"$TMP/exit.new"
mv "$TMP/exit.new" "$TMP/exit"
echo "attn-test: the program ended with status $status"
exec sleep 600
EOF
chmod +x "$TMP/run.sh"

# start ARGS...: a fresh 80x24 session running attn-trace --tui ARGS
# through the wrapper, stdout to $OUT ("-": the terminal). Returns 1 when
# the header of step 1 does not appear.
OUT=-
start() {
    tmx kill-session -t attn >/dev/null 2>&1
    rm -f "$TMP/pid" "$TMP/exit" "$TMP/stty"
    HISTORY=""
    ARGS="$*"
    # shellcheck disable=SC2086
    tmx new-session -d -s attn -x 80 -y 24 "$TMP/run.sh" "$TMP" "$OUT" "$BIN" --tui $FLAGS "$@" || return 1
    poll shows "step 1/17"
}

# The program's exit status as the wrapper saw it, once it has ended.
exit_status() {
    tries=0
    while [ ! -s "$TMP/exit" ] && [ "$tries" -lt 100 ]; do
        sleep 0.05
        tries=$((tries + 1))
    done
    sed -n 's/^exit=//p' "$TMP/exit" 2>/dev/null
}

# stty_sane FILE: stty -a output in FILE says cooked mode with echo.
stty_sane() {
    grep -E -q '(^| )icanon( |$)' "$1" 2>/dev/null && grep -E -q '(^| )echo( |$)' "$1"
}

# terminal_sane: after the program ended, the terminal is back in cooked
# mode with echo (stty -a in the same pane), on the normal screen showing
# the wrapper's line and not the program, with the cursor visible. Sets
# $why on failure.
terminal_sane() {
    why=""
    if ! stty_sane "$TMP/stty"; then
        why="stty -a: $(tr '\n' ' ' <"$TMP/stty" 2>/dev/null | cut -c1-300)"
        return 1
    fi
    if ! poll shows "attn-test: the program ended"; then
        why="the pane does not show the shell's output after the program"
        return 1
    fi
    if [ "$(pane_format '#{alternate_on}')" != 0 ]; then
        why="the terminal is still on the alternate screen"
        return 1
    fi
    if shows "step 1/17"; then
        why="the program's screen is still shown"
        return 1
    fi
    if [ "$(pane_format '#{cursor_flag}')" != 1 ]; then
        why="the cursor is still hidden"
        return 1
    fi
    return 0
}

# A session that lives as long as the test keeps the server up while the
# cases replace their own session (killing the last session would stop the
# server, and a new one could race with it going away).
if ! tmx new-session -d -s keep -x 80 -y 24 "sleep 600"; then
    echo "tui_test.sh: cannot start a tmux server" >&2
    exit 2
fi

# ---------------------------------------------------------------------------
# 1. Start: the first step, painted cell for cell as composed.
if start; then
    ok "--tui starts on step 1/17"
else
    not_ok "--tui starts on step 1/17" "$(show_screen)"
fi
poll shows "Turn the words into token ids"
check $? "step 1 shows its title" "$(show_screen)"
screen_is 80x24 "the first screen is painted as composed"
tmx capture-pane -e -p -t attn >"$TMP/escapes" 2>/dev/null
grep -q '48;5;' "$TMP/escapes"
check $? "values are painted on xterm-256 heat backgrounds"

# 2. Space walks through every step.
missing=""
step=2
while [ "$step" -le 17 ]; do
    send Space "<Space>"
    poll shows "step $step/17" || missing="$missing $step"
    step=$((step + 1))
done
check "$([ -z "$missing" ]; echo $?)" "Space walks through steps 2..17 to 17/17" \
    "steps not seen:$missing" "$(show_screen)"
screen_is 80x24 "step 17 is painted as composed"

# 3. Enter opens the cell inspector, Esc closes it.
send g g
poll shows "step 1/17"
cp "$TMP/screen" "$TMP/main"
send Enter "<Enter>"
screen_is 80x24 "Enter opens the cell inspector"
cmp -s "$TMP/main" "$TMP/screen"
check "$((1 - $?))" "the inspector changes the screen"
send Escape "<Esc>"
screen_is 80x24 "Esc closes the inspector"

# 4. ? shows help, Esc closes it.
send '?' '?'
poll shows "Keys ("
check $? "? shows the help" "$(show_screen)"
screen_is 80x24 "the help is painted as composed"
send Escape "<Esc>"
screen_is 80x24 "Esc closes the help"

# 5. Special keys reach the tracer as what they are: each screen must be
# the one the headless replay of the same keys gives.
bad=""
for pair in G:G Up:"<Up>" Left:"<Left>" Down:"<Down>" Right:"<Right>" Home:"<Home>" End:"<End>" \
    Tab:"<Tab>" BTab:"<S-Tab>" PageDown:"<PageDown>" PageUp:"<PageUp>" C-d:"<C-d>" C-u:"<C-u>" \
    BSpace:"<BS>" F1:"<F1>" Escape:"<Esc>" s:s Down:"<Down>" Enter:"<Enter>"; do
    send "${pair%%:*}" "${pair#*:}"
    expect_dump 80x24 && poll matches_expected || bad="$bad ${pair%%:*}"
done
check "$([ -z "$bad" ]; echo $?)" "arrows, Home/End, Tab/Shift-Tab, paging, Backspace, F1, Esc, Enter act as in the replay" \
    "keys whose screen differs:$bad" "$(show_diff)"

# 6. Resizing: smaller than the layout needs, then larger, then back.
tmx resize-window -t attn -x 40 -y 10
poll shows_i "too small"
check $? "a 40x10 terminal shows the too-small message" "$(show_screen)"
screen_is 40x10 "the too-small screen is painted as composed"
tmx resize-window -t attn -x 120 -y 40
screen_is 120x40 "at 120x40 the normal screen returns, laid out for the size"
tmx resize-window -t attn -x 80 -y 24
screen_is 80x24 "back at 80x24 the screen is laid out as before"
# Ctrl-L: scribble on the terminal behind the program's back (write to the
# pane's tty), then Ctrl-L must repaint every cell.
printf '\033[HSCRIBBLE\033[12;30HSCRIBBLE' >"$(pane_format '#{pane_tty}')"
poll shows SCRIBBLE
send C-l "<C-l>"
screen_is 80x24 "Ctrl-L repaints a scribbled screen in full"

# 7. q quits with status 0 and leaves the terminal sane.
send q q
status=$(exit_status)
check "$([ "$status" = 0 ]; echo $?)" "q quits with exit status 0" "exit status: ${status:-none}"
terminal_sane
check $? "after q the terminal is sane and on the normal screen" "$why" "$(show_screen)"

# 8. Signals end the program, with the signal's status, and restore the
# terminal.
for how in C-c INT TERM HUP; do
    case $how in
        C-c) what="Ctrl-C" want=130 ;;
        INT) what="kill -INT" want=130 ;;
        TERM) what="kill -TERM" want=143 ;;
        HUP) what="kill -HUP" want=129 ;;
    esac
    if ! start; then
        not_ok "$what: the program starts" "$(show_screen)"
        continue
    fi
    if [ "$how" = C-c ]; then
        tmx send-keys -t attn C-c
    else
        kill -"$how" "$(cat "$TMP/pid")"
    fi
    status=$(exit_status)
    check "$([ "$status" = "$want" ]; echo $?)" "$what ends the program (status $want)" "exit status: ${status:-none}"
    terminal_sane
    check $? "after $what the terminal is sane and on the normal screen" "$why" "$(show_screen)"
done

# 9. --no-color: attributes and glyphs only, no colour at all.
if start --no-color --ascii; then
    screen_is 80x24 "--no-color --ascii is painted as composed"
    tmx capture-pane -e -p -t attn >"$TMP/escapes" 2>/dev/null
    colours=$(grep -E -o '\[[0-9;]*m' "$TMP/escapes" | grep -E '[[;](3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]' | sort -u | tr '\n' ' ')
    check "$([ -z "$colours" ]; echo $?)" "--no-color paints without colours" "colour escapes: $colours"
    grep -E -q '\[([0-9;]*;)?7[;m]' "$TMP/escapes"
    check $? "--no-color shows the bars in reverse video"
    send q q
    [ "$(exit_status)" = 0 ]
    check $? "--no-color: q quits with exit status 0"
else
    not_ok "--no-color: the program starts" "$(show_screen)"
fi

# 10. With stdout redirected, --tui still runs on the terminal and writes
# nothing to stdout.
OUT=$TMP/stdout
if start; then
    ok "--tui > file runs on the terminal"
    send Space "<Space>"
    screen_is 80x24 "--tui > file is painted as composed"
    send q q
    [ "$(exit_status)" = 0 ] && [ -f "$OUT" ] && [ ! -s "$OUT" ]
    check $? "--tui > file: q quits with status 0, the file empty" "$(dd bs=300 count=1 <"$OUT" 2>/dev/null | od -c | head -5)"
else
    not_ok "--tui > file runs on the terminal" "$(show_screen)"
fi
OUT=-

# 11. Ctrl-Z suspends to the shell; fg brings the screen back. This needs a
# shell with job control, so the tracer runs from an interactive sh.
tmx kill-session -t attn >/dev/null 2>&1
tmx new-session -d -s attn -x 80 -y 24 "ENV= PS1='\$ ' TERM=xterm-256color exec sh -i"
poll shows '$'
tmx send-keys -t attn "'$BIN' --tui $FLAGS" Enter
if poll shows "step 1/17"; then
    tmx send-keys -t attn Space
    poll shows "step 2/17"
    tmx send-keys -t attn C-z
    poll shows "Stopped"
    status=$?
    [ $status -eq 0 ] && [ "$(pane_format '#{alternate_on}')" != 0 ] && status=1
    check $status "Ctrl-Z suspends to the shell" "$(show_screen)"
    tmx send-keys -t attn "stty -a >'$TMP/stty'; clear" Enter
    poll lacks "Stopped"
    stty_sane "$TMP/stty"
    check $? "while suspended the terminal is sane" "$(tr '\n' ' ' <"$TMP/stty" 2>/dev/null | cut -c1-300)"
    tmx resize-window -t attn -x 100 -y 30
    tmx send-keys -t attn fg Enter
    poll shows "step 2/17"
    status=$?
    [ $status -eq 0 ] && [ "$(pane_format '#{alternate_on}')" != 1 ] && status=1
    check $status "fg brings the screen back" "$(show_screen)"
    HISTORY="<Space>" ARGS=""
    screen_is 100x30 "after fg the screen is laid out for the size it has now"
    tmx send-keys -t attn Space
    poll shows "step 3/17"
    check $? "after fg the keys work" "$(show_screen)"
    tmx send-keys -t attn q
    poll lacks "step 3/17"
    check $? "q quits after fg" "$(show_screen)"
else
    not_ok "Ctrl-Z: the program starts from an interactive shell" "$(show_screen)"
fi

# 12. A lesson: a quiz typed in place stops the walk until answered, and
# the lesson opens where it was left (progress in XDG_STATE_HOME).
LESSON_FILE=$(cd "$(dirname "$0")/.." && pwd)/lessons/article.lesson
STATE="$TMP/state"
mkdir -p "$STATE"
lesson_session() {
    tmx kill-session -t attn >/dev/null 2>&1
    rm -f "$TMP/pid" "$TMP/exit" "$TMP/stty"
    tmx new-session -d -s attn -x 80 -y 24 \
        "XDG_STATE_HOME='$STATE' '$TMP/run.sh' '$TMP' - '$BIN' --tui $* '$LESSON_FILE'" || return 1
}
if lesson_session && poll shows "step 1/17"; then
    tmx send-keys -t attn Space
    poll shows "Question 1 of 1"
    check $? "a lesson's predict-first quiz opens on step 2" "$(show_screen)"
    tmx send-keys -t attn -l "q"          # typed into the answer, not quitting
    tmx send-keys -t attn BSpace
    tmx send-keys -t attn -l "[5, 16]"
    tmx send-keys -t attn Enter
    poll shows "Right"
    check $? "typing the answer and Enter: Right" "$(show_screen)"
    tmx send-keys -t attn Enter
    poll shows "sentence_embed [5, 16]"
    check $? "after the answer the step's tensors appear" "$(show_screen)"
    tmx send-keys -t attn Space
    poll shows "step 3/17"
    tmx send-keys -t attn q
    [ "$(exit_status)" = 0 ]
    check $? "q quits the lesson with status 0" "$(show_screen)"
    if lesson_session && poll shows "step 3/17"; then
        ok "the lesson opens again where it was left (step 3)"
    else
        not_ok "the lesson opens again where it was left (step 3)" "$(show_screen)"
    fi
    tmx send-keys -t attn q
    exit_status >/dev/null
    if lesson_session --restart && poll shows "step 1/17"; then
        ok "--restart starts the lesson over"
    else
        not_ok "--restart starts the lesson over" "$(show_screen)"
    fi
    tmx send-keys -t attn q
    exit_status >/dev/null
else
    not_ok "a lesson starts in the tracer" "$(show_screen)"
fi

# 13. Classroom: --autoplay moves on by itself, in the presenter theme.
tmx kill-session -t attn >/dev/null 2>&1
rm -f "$TMP/pid" "$TMP/exit" "$TMP/stty"
if tmx new-session -d -s attn -x 80 -y 24 "'$TMP/run.sh' '$TMP' - '$BIN' --tui $FLAGS --autoplay 0.5 --theme presenter" &&
    poll shows "step 1/17" && poll shows "step 2/17"; then
    ok "--autoplay 0.5 --theme presenter moves on by itself"
    tmx send-keys -t attn x   # any key stops autoplay
    sleep 1.2
    now=$(tmx capture-pane -p -t attn | head -n 1)
    sleep 1.2
    [ "$(tmx capture-pane -p -t attn | head -n 1)" = "$now" ]
    check $? "a key stops autoplay" "$(show_screen)"
    tmx send-keys -t attn q
    [ "$(exit_status)" = 0 ]
    check $? "q quits after autoplay with status 0" "$(show_screen)"
else
    not_ok "--autoplay 0.5 --theme presenter moves on by itself" "$(show_screen)"
fi

# 14. H: every head side by side at 80x24 and 50x12, paged there; the
# arrows pick a head, Enter opens it in the step.
if start; then
    send H H
    poll shows "Heads 0-3 of 4"
    check $? "H shows the four heads of the article's weights" "$(show_screen)"
    screen_is 80x24 "the heads view is painted as composed"
    tmx resize-window -t attn -x 50 -y 12
    screen_is 50x12 "at 50x12 the heads view shows a page of them"
    send PageDown "<PageDown>"
    poll shows "Heads 3-3 of 4"
    check $? "PgDn turns to the next page at 50x12" "$(show_screen)"
    tmx resize-window -t attn -x 80 -y 24
    send Left "<Left>"
    send Enter "<Enter>"
    poll shows "head 2 (heads 0-3)"
    check $? "Enter opens the selected head (2) in the step" "$(show_screen)"
    screen_is 80x24 "the opened head is painted as composed"
    tmx send-keys -t attn q
    [ "$(exit_status)" = 0 ]
    check $? "q quits after the heads view with status 0"
else
    not_ok "--tui starts for the heads view" "$(show_screen)"
fi

# 15. Experiments: x types a change on the status line, Enter recomputes
# and marks what differs, o shows the original, X undoes it; a bad change
# is refused on the status line; the same at 50x12.
if start; then
    for k in 1 2 3 4 5 6 7; do send Space "<Space>"; done
    poll shows "step 8/17"
    send x x
    poll shows "experiment:"
    check $? "x opens the experiment prompt on the status line" "$(show_screen)"
    tmx send-keys -t attn -l "no-scale"
    HISTORY="${HISTORY}no-scale"
    send Enter "<Enter>"
    poll shows "changed by no-scale"
    check $? "Enter recomputes: the line under the value counts the changes" "$(show_screen)"
    screen_is 80x24 "the diff view is painted as composed"
    tmx capture-pane -e -p -t attn >"$TMP/escapes" 2>/dev/null
    grep -q '48;5;213' "$TMP/escapes"
    check $? "the changes are painted in their own colour (xterm 213)"
    send o o
    poll shows "original (o: changed by no-scale)"
    check $? "o puts the original on screen" "$(show_screen)"
    send X X
    poll lacks "changed by"
    check $? "X undoes every change" "$(show_screen)"
    send x x
    tmx send-keys -t attn -l "zero-head=9"
    HISTORY="${HISTORY}zero-head=9"
    send Enter "<Enter>"
    poll shows "there is no head 9"
    check $? "a bad change is refused on the status line" "$(show_screen)"
    send x x
    tmx send-keys -t attn -l "no-scale"
    HISTORY="${HISTORY}no-scale"
    send Enter "<Enter>"
    # the recompute on screen first: a resize in the same instant as the
    # keys once left a stale screen in CI (not seen again in 70 tries here;
    # docs/architecture.md, "Known problems" under the input loop)
    poll shows "changed by no-scale"
    tmx resize-window -t attn -x 50 -y 12
    screen_is 50x12 "the diff view at 50x12 is painted as composed"
    tmx resize-window -t attn -x 80 -y 24
    send X X
    send x x
    tmx send-keys -t attn -l "kv-cache"
    HISTORY="${HISTORY}kv-cache"
    send Enter "<Enter>"
    poll shows "causal trace only"
    check $? "x kv-cache on the article's trace says it needs the causal one" "$(show_screen)"
    send x x
    tmx send-keys -t attn -l "causal kv-cache"
    HISTORY="${HISTORY}causal kv-cache"
    send Enter "<Enter>"
    send G G
    poll shows "step 18/18"
    poll shows "bit for bit; changed by causal kv-cache"
    check $? "x causal kv-cache: G reaches the decode, bit for bit" "$(show_screen)"
    screen_is 80x24 "the decode step is painted as composed"
    tmx resize-window -t attn -x 50 -y 12
    screen_is 50x12 "the decode step at 50x12 is painted as composed"
    tmx resize-window -t attn -x 80 -y 24
    send q q
    [ "$(exit_status)" = 0 ]
    check $? "q quits after experiments with status 0" "$(show_screen)"
else
    not_ok "experiments: the tracer starts" "$(show_screen)"
fi

# 16. A lesson that walks a model (tests/lessons-model/walk.lesson): step 4
# shows block 1 beside the lesson's block 0, labelled by model and layer;
# at 50x12 one panel fits and o switches it to the other.
saved_flags=$FLAGS
FLAGS=${FLAGS#--no-lesson} # a LESSON this time
tmx kill-session -t attn >/dev/null 2>&1
rm -f "$TMP/pid" "$TMP/exit" "$TMP/stty"
HISTORY=""
ARGS="$(cd "$(dirname "$0")" && pwd)/lessons-model/walk.lesson --restart --step 4"
# shellcheck disable=SC2086 # ARGS and FLAGS are lists of flags
if tmx new-session -d -s attn -x 80 -y 24 env XDG_STATE_HOME="$TMP/state-model" \
    "$TMP/run.sh" "$TMP" "$OUT" "$BIN" --tui $FLAGS $ARGS &&
    poll shows "step 4/5"; then
    poll shows "tiny, layer 0"
    check $? "the compare view names the lesson's trace, tiny, layer 0" "$(show_screen)"
    screen_is 80x24 "a model lesson's compare view is painted as composed"
    tmx resize-window -t attn -x 50 -y 12
    screen_is 50x12 "at 50x12 the step's own panel, tiny, layer 1, alone"
    send o o
    poll shows "Shown: tiny, layer 0"
    check $? "o at 50x12 shows the lesson trace's panel instead" "$(show_screen)"
    screen_is 50x12 "the other panel at 50x12 is painted as composed"
    tmx resize-window -t attn -x 80 -y 24
    send q q
    [ "$(exit_status)" = 0 ]
    check $? "q quits a model lesson with status 0" "$(show_screen)"
else
    not_ok "a model lesson: the tracer starts on step 4/5" "$(show_screen)"
fi
FLAGS=$saved_flags

echo "tui: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

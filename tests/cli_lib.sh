# cli_lib.sh - the helpers the shell tests use to run the attn-trace binary
# and to check that a failure is reported the way main.c promises: the
# documented exit status, nothing on stdout, and exactly one clean line on
# stderr starting with "attn-trace: ". Source it after tap.sh:
#   . "$(dirname "$0")/tap.sh"
#   . "$(dirname "$0")/cli_lib.sh"
#
# The caller sets, before the first call:
#   BIN  the binary to run (a path: ./build/attn-trace or an absolute one)
#   OUT  the file that receives a run's stdout
#   ERR  the file that receives a run's stderr
# and LC_ALL=C, so that [[:cntrl:]] means the bytes 0-31 and 127.
#
#   run ARGS...         runs "$BIN" ARGS..., stdout to $OUT, stderr to $ERR;
#                       sets $status to the exit status.
#   stderr_problem FILE prints why FILE is not one clean error line (empty,
#                       more or fewer than one line, no final newline, not
#                       starting with "attn-trace: ", a control character
#                       in it); prints nothing when it is.
#   bad STATUS PART DESCRIPTION -- ARGS...
#                       one test case (ok / not_ok from tap.sh): runs ARGS
#                       and expects exit status STATUS, an empty stdout and
#                       a clean stderr line (stderr_problem) containing
#                       PART, a fixed string ("" for any). Sets $status, and
#                       uses the globals want, part, desc, problems, p,
#                       lines and bytes.
# shellcheck shell=sh

# run ARGS...: runs the binary, stdout to $OUT, stderr to $ERR, status in $status.
run() {
    "$BIN" "$@" >"$OUT" 2>"$ERR"
    status=$?
}

# stderr_problem FILE: why FILE is not exactly one clean "attn-trace: "
# line, or "" when it is.
stderr_problem() {
    lines=$(wc -l <"$1" | tr -d ' ')
    bytes=$(wc -c <"$1" | tr -d ' ')
    if [ "$bytes" -eq 0 ]; then
        printf '%s\n' "stderr is empty"
    elif [ "$lines" -ne 1 ]; then
        printf '%s\n' "stderr has $lines lines: $(show "$1")"
    elif [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" != '\n' ]; then
        printf '%s\n' "stderr does not end with a newline"
    elif ! head -n 1 "$1" | grep -q '^attn-trace: '; then
        printf '%s\n' "stderr does not start with 'attn-trace: ': $(show "$1")"
    elif tr -d '\n' <"$1" | grep -q '[[:cntrl:]]'; then
        printf '%s\n' "stderr carries control characters: $(show "$1")"
    fi
}

# bad STATUS PART DESCRIPTION -- ARGS...: expects the exit status, an empty
# stdout, one clean stderr line containing PART (a fixed string; "" for any).
bad() {
    want=$1
    part=$2
    desc=$3
    shift 4
    run "$@"
    problems=""
    [ "$status" -eq "$want" ] || problems="exit status $status, expected $want"
    [ -s "$OUT" ] && problems="$problems${problems:+; }stdout is not empty ($(wc -c <"$OUT" | tr -d ' ') bytes)"
    p=$(stderr_problem "$ERR")
    [ -n "$p" ] && problems="$problems${problems:+; }$p"
    if [ -n "$part" ] && ! grep -qF -e "$part" "$ERR"; then
        problems="$problems${problems:+; }stderr lacks \"$part\": $(show "$ERR")"
    fi
    if [ -z "$problems" ]; then
        ok "$desc"
    else
        not_ok "$desc" "$problems"
    fi
}

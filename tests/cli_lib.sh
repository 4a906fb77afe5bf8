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
# (and LC_ALL=C, as every script does, so that the checks see bytes).
#
#   run ARGS...         runs "$BIN" ARGS..., stdout to $OUT, stderr to $ERR;
#                       sets $status to the exit status.
#   raw_problem FILE    prints why FILE could garble a terminal (a raw C0
#                       control other than newline, DEL, a C1 control, or
#                       invalid UTF-8); prints nothing when it is clean.
#   stderr_problem FILE [PREFIX]
#                       prints why FILE is not one clean error line (empty,
#                       more or fewer than one line, no final newline, not
#                       starting with "attn-trace: " (or PREFIX), or a
#                       raw_problem); prints nothing when it is.
#   bad STATUS PART DESCRIPTION -- ARGS...
#                       one test case (ok / not_ok from tap.sh): runs ARGS
#                       and expects exit status STATUS, an empty stdout and
#                       a clean stderr line (stderr_problem) containing
#                       PART, a fixed string ("" for any). Sets $status, and
#                       uses the globals want, part, desc, problems and p.
# shellcheck shell=sh

# run ARGS...: runs the binary, stdout to $OUT, stderr to $ERR, status in $status.
run() {
    "$BIN" "$@" >"$OUT" 2>"$ERR"
    status=$?
}

# raw_problem FILE: why FILE holds a raw control character (C0 other than
# newline, DEL, or a C1 control, encoded or as a lone byte) or invalid
# UTF-8; "" when clean.
# Printable ASCII and newlines cannot be a problem, so only what is left
# after deleting them is decoded (multi-byte sequences stay whole).
raw_problem() {
    tr -d '\n\040-\176' <"$1" | od -An -v -tu1 | awk '
        {
            for (i = 1; i <= NF; i++) {
                b = $i + 0
                if (need > 0) {
                    if (b < 128 || b > 191) {
                        bad = sprintf("invalid UTF-8 (byte 0x%02X after a lead byte)", b)
                        exit
                    }
                    cp = cp * 64 + b - 128
                    if (--need == 0 && cp >= 128 && cp < 160) { bad = sprintf("a raw C1 control U+%04X", cp); exit }
                    continue
                }
                if (b == 27) { bad = "a raw ESC"; exit }
                if (b < 32 || b == 127) { bad = sprintf("a raw control byte 0x%02X", b); exit }
                if (b >= 194 && b <= 223) { need = 1; cp = b - 192 }
                else if (b >= 224 && b <= 239) { need = 2; cp = b - 224 }
                else if (b >= 240 && b <= 244) { need = 3; cp = b - 240 }
                else if (b < 160) { bad = sprintf("a raw C1 byte 0x%02X", b); exit }
                else { bad = sprintf("invalid UTF-8 (byte 0x%02X)", b); exit }
            }
        }
        END {
            if (bad == "" && need > 0) bad = "invalid UTF-8 (a truncated sequence)"
            if (bad != "") print bad
        }'
}

# stderr_problem FILE [PREFIX]: why FILE is not one clean error line; ""
# when it is. The line starts with "attn-trace: ", or with PREFIX when one
# is given (a lesson's FILE:LINE:COL errors start with the file's name).
stderr_problem() {
    lines=$(wc -l <"$1" | tr -d ' ')
    bytes=$(wc -c <"$1" | tr -d ' ')
    if [ "$bytes" -eq 0 ]; then
        printf '%s\n' "stderr is empty"
    elif [ "$lines" -ne 1 ]; then
        printf '%s\n' "stderr has $lines lines, not 1: $(show "$1")"
    elif [ "$(tail -c 1 "$1" | od -An -tu1 | tr -d ' ')" != 10 ]; then
        printf '%s\n' "stderr does not end with a newline: $(show "$1")"
    elif ! head -n 1 "$1" | grep -q '^attn-trace: ' &&
        { [ -z "$2" ] || [ "$(head -c ${#2} "$1")" != "$2" ]; }; then
        # shellcheck disable=SC2016 # $2 is inside double quotes: it expands
        printf '%s\n' "stderr does not start with 'attn-trace: '${2:+ or '$2'}: $(show "$1")"
    else
        p=$(raw_problem "$1")
        [ -n "$p" ] && printf '%s\n' "stderr carries $p: $(show "$1")"
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

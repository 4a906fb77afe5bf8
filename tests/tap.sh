# tap.sh - the TAP-style reporting the shell test scripts share. Source it:
#   . "$(dirname "$0")/tap.sh"
# then call ok / not_ok per case and report $passed and $failed at the end;
# show quotes a file in a not_ok diagnostic. (tests/cli_lib.sh adds the
# helpers for running the binary and checking its error line.)
# shellcheck shell=sh

passed=0
failed=0
n=0

# ok DESCRIPTION: a case that passed.
ok() {
    n=$((n + 1))
    passed=$((passed + 1))
    printf 'ok %s - %s\n' "$n" "$1"
}

# not_ok DESCRIPTION [DIAGNOSTIC...]: a case that failed, with lines that
# say why (each may span several lines; every line is marked "#   ").
not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    printf 'not ok %s - %s\n' "$n" "$1"
    shift
    for line in "$@"; do
        printf '%s\n' "$line" | sed 's/^/#   /'
    done
}

# show FILE: FILE's first 300 bytes on one line, control characters made
# visible (sed's l command: \033 for ESC, $ at each line's end), for a
# diagnostic that must not garble the terminal or the TAP output.
show() {
    dd bs=300 count=1 <"$1" 2>/dev/null | sed -n l | tr '\n' ' '
}

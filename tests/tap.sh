# tap.sh - the TAP-style reporting the shell test scripts share. Source it:
#   . "$(dirname "$0")/tap.sh"
# then call ok / not_ok per case and report $passed and $failed at the end.
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

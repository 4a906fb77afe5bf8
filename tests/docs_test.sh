#!/usr/bin/env bash
# docs_test.sh - keeps the documentation true to the program.
#
#   tests/docs_test.sh build/attn-trace            check (make check)
#   tests/docs_test.sh --update build/attn-trace   rewrite the dumps (make guide)
#
# 1. The bash completion offers after "--" every long option of its own
#    lists, and nothing else. That those lists, the manual docs/attn-trace.1
#    and README.md's usage table name exactly the flags of the flag table in
#    src/cli/cli.c is checked from the table itself, by tests/check_cli.c
#    (its "drift" case: CK_RUN_SUITE=cli CK_RUN_CASE=drift build/run-tests).
#    The steps that `attn-trace --list-steps` prints (the program's step
#    table) are, by number and id and in order, README.md's table of steps,
#    the manual's list of steps and the table of docs/lesson-format.md.
# 2. The screens and outputs shown in docs/guide.md, README.md,
#    docs/models.md and docs/experiments.md are what
#    the program writes now. Each sits between markers:
#
#      <!-- screen: ARGS -->        attn-trace --dump-screen - --size 80x24 ARGS
#      ```text
#      ...the screen...
#      ```
#      <!-- /screen -->
#
#      <!-- output: ARGS -->        attn-trace ARGS (its standard output,
#      ```text                      after a "$ attn-trace ARGS" line)
#      ...
#      ```
#      <!-- /output -->
#
#    ARGS are words as the shell reads them (quotes work; they are eval'ed,
#    so write only arguments there). Paths are relative to the repository's
#    top. --update rewrites everything between the markers; the check fails
#    when a rewrite would change anything.
#
# Prints TAP-style lines, then "docs: N passed, M failed"; exits 1 when any
# check failed.

update=0
if [ "${1:-}" = --update ]; then
    update=1
    shift
fi
BIN=${1:-build/attn-trace}
if [ ! -x "$BIN" ]; then
    echo "docs_test.sh: $BIN is not an executable (build it with make build-bin)" >&2
    exit 2
fi
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
cd "$(dirname "$0")/.." || exit 2

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-docs-test.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

. tests/tap.sh

# The same environment for every run, whoever runs it: no saved progress,
# no extra lesson directories, the C locale.
export LC_ALL=C XDG_STATE_HOME=$TMP/state HOME=$TMP/home
unset NO_COLOR ATTN_TRACE_LESSONS
mkdir -p "$TMP/state" "$TMP/home"

# ---------------------------------------------------------------------------
# 1. The options.

# The long options in the completion's lists, and what it offers after "--".
listed=$(bash -c '. src/cli/attn-trace.bash-completion
    printf "%s\n" $_attn_trace_value_options $_attn_trace_switches' | grep -- '^--' | sort -u)
offered=$(bash -c '. src/cli/attn-trace.bash-completion
    COMP_WORDS=(attn-trace --); COMP_CWORD=1; _attn_trace; printf "%s\n" "${COMPREPLY[@]}"' 2>&1 | sort -u)
count=$(printf '%s\n' "$listed" | grep -c .)
if [ "$count" -lt 25 ]; then
    not_ok "the completion lists the options" "only $count long options in its lists: has their layout changed?"
elif [ "$listed" = "$offered" ]; then
    ok "the completion offers its $count long options after \"--\""
else
    not_ok "the completion offers its $count long options after \"--\"" \
        "$(diff <(printf '%s\n' "$listed") <(printf '%s\n' "$offered") | head -n 20)"
fi

# The steps: "N id" a line, from the program and from each document.
program_steps=$("$BIN" --list-steps | cut -f1,2 | tr '\t' ' ')
if [ "$(printf '%s\n' "$program_steps" | grep -c .)" -ge 17 ]; then
    ok "attn-trace --list-steps lists $(printf '%s\n' "$program_steps" | grep -c .) steps"
else
    not_ok "attn-trace --list-steps lists the steps" "got: $(printf '%s' "$program_steps" | head -c 300)"
fi
# README: the rows "| N | `id` | ..." of its table of steps.
readme_steps=$(sed -n 's/^| \([0-9][0-9]*\) | `\([A-Za-z0-9_]*\)` |.*/\1 \2/p' README.md)
# The manual: after "The steps, by number and id:", a number line, then ".Cm id".
manual_steps=$(sed -n '/^The steps, by number and id:$/,/^\.Sh /p' docs/attn-trace.1 |
    awk '/^[0-9]+$/ { n = $1; next } /^\.Cm / && n != "" { print n, $2; n = "" }')
# docs/lesson-format.md: the rows "| `id` | ..." of its table "| id | shows |", numbered here.
format_steps=$(sed -n '/^| id | shows |$/,/^$/p' docs/lesson-format.md | sed -n 's/^| `\([A-Za-z0-9_]*\)` |.*/\1/p' |
    awk '{ print NR, $1 }')
for where in README.md docs/attn-trace.1 docs/lesson-format.md; do
    case $where in
    README.md) listed=$readme_steps ;;
    docs/attn-trace.1) listed=$manual_steps ;;
    *) listed=$format_steps ;;
    esac
    if [ "$listed" = "$program_steps" ]; then
        ok "$where lists the steps of --list-steps, by number and id, in order"
    else
        not_ok "$where lists the steps of --list-steps, by number and id, in order" \
            "$(diff <(printf '%s\n' "$program_steps") <(printf '%s\n' "$listed") | head -n 8)"
    fi
done

# ---------------------------------------------------------------------------
# 2. The screens and outputs in the docs.

# render FILE OUT: FILE with every marked block rewritten from the program,
# into OUT. Fails, naming the marker, when a run fails or a block is not
# closed.
render() {
    local file=$1 out=$2 line kind args lineno=0 start=0
    rendered=0
    : >"$out"
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        if [ "$start" -ne 0 ]; then # inside a block: drop until its end
            case $line in
            "<!-- /$kind -->") start=0 ;;
            *) continue ;;
            esac
        elif [[ $line == '<!-- /screen -->' || $line == '<!-- /output -->' ]]; then
            echo "$file:$lineno: $line closes no block"
            return 1
        fi
        printf '%s\n' "$line" >>"$out"
        [[ $line =~ ^'<!-- '(screen|output):(.*)' -->'$ ]] || continue
        kind=${BASH_REMATCH[1]}
        args=${BASH_REMATCH[2]# }
        start=$lineno
        rendered=$((rendered + 1))
        eval "set -- $args" || { echo "$file:$lineno: cannot read the arguments: $args"; return 1; }
        if [ "$kind" = screen ]; then
            set -- --dump-screen - --size 80x24 "$@"
        fi
        if ! "$BIN" "$@" >"$TMP/run.out" 2>"$TMP/run.err"; then
            echo "$file:$lineno: attn-trace $args failed: $(head -c 300 "$TMP/run.err")"
            return 1
        fi
        {
            echo '```text'
            [ "$kind" = output ] && echo "\$ attn-trace $args"
            sed 's/[[:space:]]*$//' "$TMP/run.out"
            echo '```'
        } >>"$out"
    done <"$file"
    if [ "$start" -ne 0 ]; then
        echo "$file:$start: <!-- $kind: --> has no <!-- /$kind -->"
        return 1
    fi
}

for file in docs/guide.md README.md docs/models.md docs/experiments.md; do
    blocks=$(grep -Ec '^<!-- (screen|output):' "$file")
    rendered=0
    if ! render "$file" "$TMP/rendered" >"$TMP/why" 2>&1; then
        not_ok "$file: the marked screens and outputs can be made" "$(cat "$TMP/why")"
    elif [ "$blocks" -eq 0 ] || [ "$rendered" -ne "$blocks" ]; then
        not_ok "$file: has marked screens or outputs, each well formed" \
            "$blocks lines start a marker, $rendered are <!-- screen: ARGS --> or <!-- output: ARGS -->"
    elif cmp -s "$file" "$TMP/rendered"; then
        ok "$file: its $blocks screens and outputs are what the program writes now"
    elif [ "$update" -eq 1 ]; then
        cp "$TMP/rendered" "$file"
        ok "$file: rewrote its $blocks screens and outputs"
    else
        not_ok "$file: its screens and outputs are what the program writes now" \
            "$(diff -u "$file" "$TMP/rendered" | head -n 40)" "run make guide, and review the diff"
    fi
done

printf 'docs: %s passed, %s failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# reliability_test.sh - the write paths of the real attn-trace binary when
# the world is hostile (issue 17): a file size limit (ulimit -f, in a
# subshell), a full disk (/dev/full), symbolic links at the output name,
# names as long as the file system allows. Each failure must be exactly
# one "attn-trace: " line with the real reason, exit status 1, and no file
# left behind (no temporary, no half file, no partial set); each success
# must leave the whole file and nothing else.
#
#   tests/reliability_test.sh build/attn-trace
#
# The terminal cases (signals, the tracer under ulimit -f, two windows on
# one lesson, a paste) are in tests/reliability_tui_test.sh.
#
# Prints TAP-style "ok N - ..." / "not ok N - ..." lines, then
# "reliability: N passed, M failed"; exits 1 when any check failed.

BIN=${1:-build/attn-trace}
case $BIN in
    /*) ;;
    *) BIN=$(pwd)/$BIN ;;
esac
if [ ! -x "$BIN" ]; then
    echo "reliability_test.sh: $BIN is not an executable (build it with make build-bin)" >&2
    exit 2
fi
LESSONS=$(cd "$(dirname "$0")/../lessons" && pwd)

LC_ALL=C
export LC_ALL

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-reliability-test.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM HUP
OUT=$TMP/out
ERR=$TMP/err

. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/cli_lib.sh"

# fresh: an empty working directory, $TMP/w, to count what a run leaves.
fresh() {
    rm -rf "$TMP/w"
    mkdir "$TMP/w"
}

# listing DIR: the names in DIR, dot files too, on one line.
listing() {
    ls -A "$1" | tr '\n' ' '
}

# limited SIZE ARGS...: runs the binary in $TMP/w with the file size limit
# at SIZE blocks (a subshell, so the limit ends with it); sets $status.
limited() {
    size=$1
    shift
    (cd "$TMP/w" && ulimit -f "$size" && exec "$BIN" "$@") >"$OUT" 2>"$ERR"
    status=$?
}

# expect_efbig DESCRIPTION: the last run failed with status 1 and one
# clean line saying "File too large", and left $TMP/w empty.
expect_efbig() {
    problems=""
    [ "$status" -eq 1 ] || problems="exit status $status, expected 1 (153 is death by SIGXFSZ)"
    p=$(stderr_problem "$ERR")
    [ -n "$p" ] && problems="$problems${problems:+; }$p"
    grep -qF "File too large" "$ERR" || problems="$problems${problems:+; }stderr lacks \"File too large\": $(show "$ERR")"
    left=$(find "$TMP/w" -mindepth 1 -type f | sed "s|$TMP/w/||" | tr '\n' ' ')
    [ -z "$left" ] || problems="$problems${problems:+; }files left: $left"
    if [ -z "$problems" ]; then ok "$1"; else not_ok "$1" "$problems"; fi
}

# --- 1. ulimit -f: a write error (EFBIG), not death by SIGXFSZ -----------
fresh
limited 1 --svg a.svg
expect_efbig "ulimit -f 1: --svg fails with one line, status 1, no a.svg.tmp left"
fresh
limited 1 --export-npy npy
# the files before the one that hit the limit stay, each whole (export.h);
# the one that failed and its temporary file are gone
problems=""
[ "$status" -eq 1 ] || problems="exit status $status, expected 1 (153 is death by SIGXFSZ)"
p=$(stderr_problem "$ERR")
[ -n "$p" ] && problems="$problems${problems:+; }$p"
failed_file=$(sed -n 's|^attn-trace: npy/\([^:]*\): cannot write: File too large$|\1|p' "$ERR")
[ -n "$failed_file" ] || problems="$problems${problems:+; }stderr is not 'npy/FILE: cannot write: File too large': $(show "$ERR")"
[ -z "$failed_file" ] || [ ! -e "$TMP/w/npy/$failed_file" ] || problems="$problems${problems:+; }$failed_file is there"
tmps=$(ls -A "$TMP/w/npy" 2>/dev/null | grep -c 'tmp')
[ "$tmps" -eq 0 ] || problems="$problems${problems:+; }$tmps temporary files left"
for f in "$TMP"/w/npy/*.npy; do
    [ -e "$f" ] || continue
    [ "$(head -c 6 "$f" | od -An -c | tr -d ' ')" = '223NUMPY' ] || problems="$problems${problems:+; }$f is not whole"
done
check_ok() { if [ -z "$problems" ]; then ok "$1"; else not_ok "$1" "$problems"; fi; }
check_ok "ulimit -f 1: --export-npy fails with one line, the failing file and its .tmp gone, the others whole"
fresh
limited 1 --dump-screen d.txt --size 200x60
expect_efbig "ulimit -f 1: --dump-screen fails with one line and leaves no 1024-byte partial file"
fresh
printf 'old\n' >"$TMP/w/d.txt"
limited 1 --dump-screen d.txt --size 200x60
if [ "$status" -eq 1 ] && [ "$(cat "$TMP/w/d.txt")" = old ] && [ "$(listing "$TMP/w")" = "d.txt " ]; then
    ok "a failed --dump-screen leaves the old file whole"
else
    not_ok "a failed --dump-screen leaves the old file whole" "status $status; d.txt: $(show "$TMP/w/d.txt"); left: $(listing "$TMP/w")"
fi
# --- 5. --dump-screen: symbolic links and atomicity ---------------------
fresh
printf 'target\n' >"$TMP/w/t"
ln -s t "$TMP/w/l"
(cd "$TMP/w" && "$BIN" --dump-screen l) >"$OUT" 2>"$ERR"
status=$?
if [ "$status" -eq 0 ] && [ "$(cat "$TMP/w/t")" = target ] && [ ! -L "$TMP/w/l" ] && grep -q "step 1/" "$TMP/w/l" &&
    [ "$(listing "$TMP/w")" = "l t " ]; then
    ok "--dump-screen over a symlink replaces the link, not its target"
else
    not_ok "--dump-screen over a symlink replaces the link, not its target" \
        "status $status; t: $(show "$TMP/w/t"); left: $(listing "$TMP/w"); $(show "$ERR")"
fi
fresh
ln -s nowhere "$TMP/w/dl"
(cd "$TMP/w" && "$BIN" --dump-screen dl) >"$OUT" 2>"$ERR"
status=$?
if [ "$status" -eq 0 ] && [ ! -e "$TMP/w/nowhere" ] && [ -f "$TMP/w/dl" ] && [ ! -L "$TMP/w/dl" ]; then
    ok "--dump-screen over a dangling symlink does not create its target"
else
    not_ok "--dump-screen over a dangling symlink does not create its target" "status $status; left: $(listing "$TMP/w")"
fi
fresh
printf 'target\n' >"$TMP/w/t"
ln -s t "$TMP/w/l"
(cd "$TMP/w" && "$BIN" --svg l) >"$OUT" 2>"$ERR"
status=$?
if [ "$status" -eq 0 ] && [ "$(cat "$TMP/w/t")" = target ] && [ ! -L "$TMP/w/l" ] && grep -q "<svg" "$TMP/w/l"; then
    ok "--svg over a symlink replaces the link, not its target"
else
    not_ok "--svg over a symlink replaces the link, not its target" "status $status; left: $(listing "$TMP/w")"
fi
# /dev/stdout is a link to /proc/self/fd/1, here a regular file: it must be
# written through, never replaced (that would break /dev/stdout for every
# program on the machine)
"$BIN" --dump-screen /dev/stdout >"$OUT" 2>"$ERR"
status=$?
if [ "$status" -eq 0 ] && grep -q "step 1/" "$OUT" && [ -L /dev/stdout ]; then
    ok "--dump-screen /dev/stdout into a file is written through, the link kept"
else
    not_ok "--dump-screen /dev/stdout into a file is written through, the link kept" "status $status; $(show "$ERR")"
fi
"$BIN" --svg /dev/stdout >"$OUT" 2>"$ERR"
status=$?
if [ "$status" -eq 0 ] && grep -q "<svg" "$OUT" && [ -L /dev/stdout ]; then
    ok "--svg /dev/stdout into a file is written through, the link kept"
else
    not_ok "--svg /dev/stdout into a file is written through, the link kept" "status $status; $(show "$ERR")"
fi

# --- 6. --check to a full stdout -----------------------------------------
"$BIN" --check "$LESSONS/article.lesson" >/dev/full 2>"$ERR"
status=$?
problems=""
[ "$status" -eq 1 ] || problems="exit status $status, expected 1"
p=$(stderr_problem "$ERR")
[ -n "$p" ] && problems="$problems${problems:+; }$p"
grep -qF "No space left on device" "$ERR" || problems="$problems${problems:+; }stderr lacks ENOSPC: $(show "$ERR")"
if [ -z "$problems" ]; then ok "--check LESSON >/dev/full: one attn-trace: line (ENOSPC), status 1"; else
    not_ok "--check LESSON >/dev/full: one attn-trace: line (ENOSPC), status 1" "$problems"; fi

# --- 9. a full stdout stops the output at the first failed write ---------
start=$(date +%s)
"$BIN" --json --tokens 512 --d-model 256 >/dev/full 2>"$ERR"
status=$?
elapsed=$(($(date +%s) - start))
problems=""
[ "$status" -eq 1 ] || problems="exit status $status, expected 1"
p=$(stderr_problem "$ERR")
[ -n "$p" ] && problems="$problems${problems:+; }$p"
grep -qF "cannot write the output: No space left on device" "$ERR" ||
    problems="$problems${problems:+; }stderr is not ENOSPC: $(show "$ERR")"
if [ -z "$problems" ]; then ok "--json >/dev/full reports ENOSPC, not a later errno"; else
    not_ok "--json >/dev/full reports ENOSPC, not a later errno" "$problems"; fi
# the whole JSON takes seconds to format; stopping at the first write takes
# well under one (the bound leaves room for a loaded machine)
if [ "$elapsed" -le 2 ]; then ok "--json >/dev/full stops at the first failed write (${elapsed} s)"; else
    not_ok "--json >/dev/full stops at the first failed write" "it took $elapsed s"; fi
"$BIN" --print --tokens 512 --d-model 256 >/dev/full 2>"$ERR"
if grep -qF "No space left on device" "$ERR"; then ok "--print >/dev/full reports ENOSPC"; else
    not_ok "--print >/dev/full reports ENOSPC" "$(show "$ERR")"; fi
"$BIN" --svg - >/dev/full 2>"$ERR"
if grep -qF "cannot write the output: No space left on device" "$ERR"; then ok "--svg - >/dev/full reports ENOSPC"; else
    not_ok "--svg - >/dev/full reports ENOSPC" "$(show "$ERR")"; fi

# --- 10. long names: the temporary file has a short name -----------------
fresh
long=$(printf '%0254d' 0 | tr 0 a)
(cd "$TMP/w" && "$BIN" --svg "$long") >"$OUT" 2>"$ERR"
status=$?
if [ "$status" -eq 0 ] && [ -f "$TMP/w/$long" ] && [ "$(ls -A "$TMP/w" | wc -l | tr -d ' ')" -eq 1 ]; then
    ok "--svg writes a 254-byte name (the temporary name is short)"
else
    not_ok "--svg writes a 254-byte name (the temporary name is short)" "status $status; $(show "$ERR")"
fi
fresh
(cd "$TMP/w" && "$BIN" --dump-screen "$long") >"$OUT" 2>"$ERR"
status=$?
if [ "$status" -eq 0 ] && [ -f "$TMP/w/$long" ] && [ "$(ls -A "$TMP/w" | wc -l | tr -d ' ')" -eq 1 ]; then
    ok "--dump-screen writes a 254-byte name"
else
    not_ok "--dump-screen writes a 254-byte name" "status $status; $(show "$ERR")"
fi
fresh
(cd "$TMP/w" && "$BIN" --svg "${long}b") >"$OUT" 2>"$ERR"
status=$?
if [ "$status" -eq 1 ] && grep -qF "File name too long" "$ERR" && [ -z "$(listing "$TMP/w")" ]; then
    ok "--svg refuses a 255-byte name... only when the file system does (one line, nothing left)"
else
    # a file system with longer names takes it: then it must have worked whole
    if [ "$status" -eq 0 ] && [ -f "$TMP/w/${long}b" ]; then ok "--svg with a 255-byte name works on this file system"; else
        not_ok "--svg with a 255-byte name: one clean failure or a whole file" "status $status; $(show "$ERR")"; fi
fi

echo "reliability: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

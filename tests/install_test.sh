#!/bin/sh
# install_test.sh - `make install` and `make uninstall`, done for real.
#
#   tests/install_test.sh      (make check runs it; it needs make and a C
#                               compiler, like the build)
#
# 1. Builds a second copy of the program with PREFIX=$TMP/prefix into its
#    own BUILD directory and installs it there (DESTDIR empty): every file
#    lands where it should, with its mode; the installed program, run from
#    an unrelated directory, finds the installed lessons by bare name and
#    lists them; the manual renders; the bash completion loads.
# 2. `make uninstall` removes exactly what was installed: other files in
#    the same directories stay.
# 3. A DESTDIR install with PREFIX=/usr/local (which recompiles the lesson
#    path) puts every file under DESTDIR and nothing anywhere else, and the
#    program in it looks for lessons under /usr/local, not under DESTDIR;
#    a DESTDIR uninstall leaves no file behind.
#
# Run by hand, the second copy is a full build. make check sets
# ATTN_INSTALL_SEED to its own build directory (and ATTN_INSTALL_CC,
# _OPT, _CFLAGS, _LDFLAGS to the flags it built with): the objects are
# copied from there with their times, so only src/lesson/catalog.c, which
# holds the lesson path compiled from PREFIX, is recompiled and the
# program relinked.
#
# Prints TAP-style lines, then "install: N passed, M failed"; exits 1 when
# any check failed.

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd -P)
MAKE=${MAKE:-make}
# the make that runs this test may pass its flags and jobserver down: the
# builds here are made as a user would make them
unset MAKEFLAGS MFLAGS MAKELEVEL

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-install-test.XXXXXX") || exit 2
TMP=$(cd "$TMP" && pwd -P)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

. tests/tap.sh

P=$TMP/prefix
LOG=$TMP/make.log
mkdir -p "$TMP/elsewhere" "$TMP/state" "$TMP/home"
unset ATTN_TRACE_LESSONS NO_COLOR
export XDG_STATE_HOME="$TMP/state" HOME="$TMP/home" LC_ALL=C

# The files an install must make, relative to the prefix, one a line.
expected_files() {
    {
        echo bin/attn-trace
        echo share/man/man1/attn-trace.1
        echo share/bash-completion/completions/attn-trace
        for f in lessons/*.lesson; do echo "share/attn-trace/lessons/${f#lessons/}"; done
        for f in lessons/models/*/*; do echo "share/attn-trace/lessons/${f#lessons/}"; done
        for f in README.md docs/*.md; do echo "share/doc/attn-trace/${f##*/}"; done
    } | LC_ALL=C sort
}
expected_files >"$TMP/expected"

# files_under DIR: the regular files under DIR, relative to it, sorted.
files_under() {
    (cd "$1" 2>/dev/null && find . -type f | sed 's|^\./||' | LC_ALL=C sort)
}

# The make variables every build here gets ("$@"): none for a full build,
# the seed build's compiler and flags when its objects are reused.
set --
if [ -n "${ATTN_INSTALL_SEED:-}" ]; then
    if [ -d "$ATTN_INSTALL_SEED/obj" ] && [ -d "$ATTN_INSTALL_SEED/gen" ] && mkdir -p "$TMP/build" &&
        cp -pR "$ATTN_INSTALL_SEED/obj" "$ATTN_INSTALL_SEED/gen" "$TMP/build/"; then
        set -- CC="${ATTN_INSTALL_CC:-cc}" OPT="${ATTN_INSTALL_OPT:--O2 -g}" CFLAGS="${ATTN_INSTALL_CFLAGS:-}" \
            LDFLAGS="${ATTN_INSTALL_LDFLAGS:-}"
    else
        echo "install_test.sh: cannot reuse the objects of $ATTN_INSTALL_SEED; doing a full build" >&2
        rm -rf "$TMP/build"
    fi
fi

# ---------------------------------------------------------------------------
# 1. Install under a temporary PREFIX.

if "$MAKE" --no-print-directory "$@" BUILD="$TMP/build" PREFIX="$P" install >"$LOG" 2>&1; then
    ok "make BUILD=... PREFIX=\$TMP/prefix install"
else
    not_ok "make BUILD=... PREFIX=\$TMP/prefix install" "$(tail -n 20 "$LOG")"
fi

files_under "$P" >"$TMP/installed"
if cmp -s "$TMP/expected" "$TMP/installed"; then
    ok "install made exactly the $(wc -l <"$TMP/expected" | tr -d ' ') expected files"
else
    not_ok "install made exactly the expected files" "$(diff "$TMP/expected" "$TMP/installed")"
fi

wrong_mode=$(cd "$P" 2>/dev/null && find . -type f ! -path ./bin/attn-trace ! -perm 644)
if [ -f "$P/bin/attn-trace" ] && [ -n "$(find "$P/bin/attn-trace" -perm 755)" ] && [ -z "$wrong_mode" ]; then
    ok "the program is installed with mode 755, every other file with 644"
else
    not_ok "the program is installed with mode 755, every other file with 644" "$(ls -lR "$P" 2>&1 | head -n 30)"
fi

differs=""
for f in lessons/*.lesson lessons/models/*/*; do
    cmp -s "$f" "$P/share/attn-trace/lessons/${f#lessons/}" || differs="$differs $f"
done
cmp -s docs/attn-trace.1 "$P/share/man/man1/attn-trace.1" || differs="$differs docs/attn-trace.1"
cmp -s src/cli/attn-trace.bash-completion "$P/share/bash-completion/completions/attn-trace" || differs="$differs completion"
if [ -z "$differs" ]; then
    ok "the installed lessons, manual and completion are copies of the sources"
else
    not_ok "the installed lessons, manual and completion are copies of the sources" "differ:$differs"
fi

# The installed program, from a directory with no lessons in it: a bare
# lesson name can only come from PREFIX/share/attn-trace/lessons.
if (cd "$TMP/elsewhere" && "$P/bin/attn-trace" causal-mask --print) >"$TMP/out" 2>"$TMP/err" &&
    [ "$(head -n 1 "$TMP/out")" = "Causal masking: no peeking at later words" ] && [ ! -s "$TMP/err" ]; then
    ok "the installed program opens an installed lesson by bare name from another directory"
else
    not_ok "the installed program opens an installed lesson by bare name from another directory" \
        "$(head -n 2 "$TMP/out")" "$(head -c 300 "$TMP/err")"
fi

# The shipped model by its name, from the same directory: only
# PREFIX/share/attn-trace/lessons/models/tiny can be it.
if (cd "$TMP/elsewhere" && "$P/bin/attn-trace" --model tiny --sentence "The old farmer sleeps." --print) \
    >"$TMP/out" 2>"$TMP/err" && grep -q "share/attn-trace/lessons/models/tiny" "$TMP/out" && [ ! -s "$TMP/err" ]; then
    ok "the installed program opens the installed model by name (--model tiny) from another directory"
else
    not_ok "the installed program opens the installed model by name (--model tiny) from another directory" \
        "$(head -n 3 "$TMP/out")" "$(head -c 300 "$TMP/err")"
fi
(cd "$TMP/elsewhere" && "$P/bin/attn-trace" --model no-such-model --token-ids 1 --print) >"$TMP/out" 2>"$TMP/err"
status=$?
if [ "$status" -eq 66 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "^attn-trace: --model no-such-model: no such model" "$TMP/err"; then
    ok "an unknown model name: one line, exit 66"
else
    not_ok "an unknown model name: one line, exit 66" "status $status" "$(head -c 300 "$TMP/err")"
fi

lesson_dir=$(cd "$P/share/attn-trace/lessons" 2>/dev/null && pwd -P)
(cd "$TMP/elsewhere" && "$P/bin/attn-trace" --list-lessons) >"$TMP/out" 2>"$TMP/err"
status=$?
missing=""
for f in lessons/*.lesson; do
    name=${f#lessons/}
    grep -q "^  ${name%.lesson} " "$TMP/out" || missing="$missing ${name%.lesson}"
done
if [ "$status" -eq 0 ] && [ -n "$lesson_dir" ] && [ "$(grep -v '^ ' "$TMP/out" | grep -v '^$')" = "$lesson_dir:" ] &&
    [ -z "$missing" ]; then
    ok "--list-lessons shows the installed directory alone, with every lesson"
else
    not_ok "--list-lessons shows the installed directory alone, with every lesson" \
        "status $status; missing:${missing:- none}" "$(head -n 12 "$TMP/out")"
fi

# The manual renders (mandoc, or man -l), and man finds it through MANPATH.
page=$P/share/man/man1/attn-trace.1
if command -v mandoc >/dev/null 2>&1; then
    render="mandoc -T ascii"
elif command -v man >/dev/null 2>&1; then
    render="man -l -P cat"
else
    render=""
fi
if [ -z "$render" ]; then
    ok "the installed manual renders # SKIP neither mandoc nor man is installed"
elif $render "$page" 2>/dev/null | sed "s/.$(printf '\b')//g" >"$TMP/man.txt" && grep -q '^NAME' "$TMP/man.txt" &&
    grep -q 'EXIT STATUS' "$TMP/man.txt" && grep -q -- '--list-lessons' "$TMP/man.txt"; then
    ok "the installed manual renders with ${render%% *}"
else
    not_ok "the installed manual renders with ${render%% *}" "$(head -n 5 "$TMP/man.txt")"
fi
if command -v man >/dev/null 2>&1; then
    found=$(MANPATH="$P/share/man" man -w attn-trace 2>&1)
    if [ "$found" = "$page" ]; then
        ok "man -w attn-trace finds the installed page through MANPATH"
    else
        not_ok "man -w attn-trace finds the installed page through MANPATH" "got: $found"
    fi
fi

if bash -c '. "$1" && complete -p attn-trace' sh "$P/share/bash-completion/completions/attn-trace" \
    >"$TMP/out" 2>&1 && grep -q '_attn_trace' "$TMP/out"; then
    ok "the installed bash completion loads"
else
    not_ok "the installed bash completion loads" "$(head -c 300 "$TMP/out")"
fi

# ---------------------------------------------------------------------------
# 2. Uninstall: exactly what install put, and nothing else.

mkdir -p "$P/share/doc/other"
echo other >"$P/bin/other-tool"
echo other >"$P/share/man/man1/other.1"
echo other >"$P/share/doc/other/README"
printf '%s\n' bin/other-tool share/doc/other/README share/man/man1/other.1 >"$TMP/others"
if "$MAKE" --no-print-directory "$@" BUILD="$TMP/build" PREFIX="$P" uninstall >"$LOG" 2>&1; then
    ok "make PREFIX=\$TMP/prefix uninstall"
else
    not_ok "make PREFIX=\$TMP/prefix uninstall" "$(tail -n 20 "$LOG")"
fi
files_under "$P" >"$TMP/left"
if cmp -s "$TMP/others" "$TMP/left"; then
    ok "uninstall removed every installed file and no other"
else
    not_ok "uninstall removed every installed file and no other" "$(diff "$TMP/others" "$TMP/left")"
fi
if [ ! -e "$P/share/attn-trace" ] && [ ! -e "$P/share/doc/attn-trace" ] && [ -d "$P/bin" ] &&
    [ -d "$P/share/man/man1" ] && [ -d "$P/share/bash-completion/completions" ]; then
    ok "uninstall removed share/attn-trace and share/doc/attn-trace, and left bin/, man1/ and completions/"
else
    not_ok "uninstall removed share/attn-trace and share/doc/attn-trace, and left bin/, man1/ and completions/" \
        "$(cd "$P" && find . -type d | LC_ALL=C sort)"
fi

# ---------------------------------------------------------------------------
# 3. A staged install: DESTDIR with PREFIX=/usr/local.

D=$TMP/dest
touch "$TMP/stamp"
sleep 1 # so that a file written after the stamp is newer than it
if "$MAKE" --no-print-directory "$@" BUILD="$TMP/build" PREFIX=/usr/local DESTDIR="$D" install >"$LOG" 2>&1; then
    ok "make PREFIX=/usr/local DESTDIR=\$TMP/dest install"
else
    not_ok "make PREFIX=/usr/local DESTDIR=\$TMP/dest install" "$(tail -n 20 "$LOG")"
fi
if grep -q 'catalog\.c' "$LOG"; then
    ok "a new PREFIX recompiles the lesson path before installing"
else
    not_ok "a new PREFIX recompiles the lesson path before installing" "$(tail -n 10 "$LOG")"
fi
sed 's|^|usr/local/|' "$TMP/expected" >"$TMP/expected-staged"
files_under "$D" >"$TMP/installed"
if cmp -s "$TMP/expected-staged" "$TMP/installed"; then
    ok "every file lands under DESTDIR/usr/local"
else
    not_ok "every file lands under DESTDIR/usr/local" "$(diff "$TMP/expected-staged" "$TMP/installed")"
fi
outside=""
for f in $(cat "$TMP/expected"); do
    g=/usr/local/$f
    if [ -e "$g" ] && [ -n "$(find "$g" -newer "$TMP/stamp" 2>/dev/null)" ]; then
        outside="$outside $g"
    fi
done
files_under "$P" >"$TMP/left"
cmp -s "$TMP/others" "$TMP/left" || outside="$outside $P"
if [ -z "$outside" ]; then
    ok "the DESTDIR install wrote nothing outside DESTDIR"
else
    not_ok "the DESTDIR install wrote nothing outside DESTDIR" "written:$outside"
fi
want=/usr/local/share/attn-trace/lessons
if [ -d "$want" ]; then
    want=$(cd "$want" && pwd -P)
fi
(cd "$TMP/elsewhere" && "$D/usr/local/bin/attn-trace" --list-lessons) >"$TMP/out" 2>&1
if grep -qF "$want" "$TMP/out" && ! grep -qF "$D" "$TMP/out"; then
    ok "the staged program looks for lessons in $want, not under DESTDIR"
else
    not_ok "the staged program looks for lessons in $want, not under DESTDIR" "$(head -n 5 "$TMP/out")"
fi
if "$MAKE" --no-print-directory "$@" BUILD="$TMP/build" PREFIX=/usr/local DESTDIR="$D" uninstall >"$LOG" 2>&1 &&
    [ -z "$(files_under "$D")" ]; then
    ok "make DESTDIR=... uninstall leaves no file under DESTDIR"
else
    not_ok "make DESTDIR=... uninstall leaves no file under DESTDIR" "$(files_under "$D" | head)" "$(tail -n 5 "$LOG")"
fi

printf 'install: %s passed, %s failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# layers_test.sh - proves that the compiler keeps the layers of src/: a file
# in one layer's folder, compiled with that layer's include flags (the
# Makefile's INC_<layer>, printed by `make print-layers`), can include the
# headers of its own layer and of the layers listed for it, and cannot
# include the header of any other layer (one above it, or beside it).
#
#   tests/layers_test.sh      (make check runs it; CC picks the compiler)
#
# For every pair of layers X and Y it compiles (-fsyntax-only), in a
# temporary folder standing for src/X, a file including every header of Y
# with X's flags: it must compile when Y is one of X's include folders;
# otherwise a one-line file including a header of Y must fail because the
# header is not found (or find a file of that name outside src/, such as a
# system header: never the one in src/Y), and no header of Y may be found
# (cc -M -MG lists what an include reaches). It also checks what makes that proof
# hold for the real tree: make compiles each layer's files with its flags
# alone (make -n); every folder of src/ holding code is a layer; no
# quoted #include in src/ names a path with a "/" (no "../trace/trace.h"
# escape past the include path); no two headers share a name (so a header
# cannot be reached through another layer's folder); no layer lists a layer
# above it (LAYERS is bottom first); and each layer's folders hold those of
# every layer it lists (the order is transitive).
#
# Prints TAP-style lines, then "layers: N passed, M failed"; exits 1 when
# any check failed.

# shellcheck disable=SC2086 # $LAYERS and the header lists are split on purpose
# shellcheck disable=SC1091,SC2154 # tap.sh is sourced: it sets passed and failed
cd "$(dirname "$0")/.." || exit 2
MAKE=${MAKE:-make}
CC=${CC:-cc}
unset MAKEFLAGS MFLAGS MAKELEVEL
LC_ALL=C
export LC_ALL

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-layers-test.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM HUP

. tests/tap.sh

if ! "$MAKE" --no-print-directory -s print-layers >"$TMP/layers" 2>"$TMP/err"; then
    echo "layers_test.sh: make print-layers failed: $(cat "$TMP/err")" >&2
    exit 2
fi
LAYERS=$(sed -n 's/^\([a-z][a-z0-9_]*\): .*/\1/p' "$TMP/layers" | grep -v '^cflags$' | tr '\n' ' ')
CFLAGS_BASE=$(sed -n 's/^cflags: //p' "$TMP/layers")
if [ -z "$LAYERS" ]; then
    echo "layers_test.sh: make print-layers listed no layers" >&2
    exit 2
fi

# inc LAYER: the include folders of LAYER, space-separated.
inc() {
    sed -n "s/^$1: //p" "$TMP/layers"
}

# in_list WORD LIST...: true when WORD is one of LIST.
in_list() {
    il_word=$1
    shift
    for il_item in "$@"; do
        [ "$il_item" = "$il_word" ] && return 0
    done
    return 1
}

# headers LAYER: the headers of src/LAYER, file names only, one a line.
headers() {
    for h in src/"$1"/*.h; do
        [ -f "$h" ] && basename "$h"
    done
}

# ---------------------------------------------------------------------------
# The tree matches the layer list.

extra=""
for d in src/*/; do
    d=${d%/}
    d=${d#src/}
    if ls src/"$d"/*.c src/"$d"/*.h >/dev/null 2>&1 && ! in_list "$d" $LAYERS; then
        extra="$extra src/$d"
    fi
done
loose=$(find src -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' \) | tr '\n' ' ')
if [ -z "$extra" ] && [ -z "$loose" ]; then
    ok "every C file of src/ is in a layer's folder ($(echo $LAYERS | wc -w | tr -d ' ') layers)"
else
    not_ok "every C file of src/ is in a layer's folder" "folders not in LAYERS:${extra:- none}" \
        "files directly in src/: ${loose:-none}"
fi

missing=""
for x in $LAYERS; do
    [ -d "src/$x" ] || missing="$missing $x"
    for y in $(inc "$x"); do
        in_list "$y" $LAYERS || missing="$missing $x->$y"
    done
done
if [ -z "$missing" ]; then
    ok "every layer and every include folder it lists exists"
else
    not_ok "every layer and every include folder it lists exists" "missing:$missing"
fi

escapes=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*/' src --include='*.c' --include='*.h')
if [ -z "$escapes" ]; then
    ok "no quoted #include in src/ names a path with a /"
else
    not_ok "no quoted #include in src/ names a path with a /" "$escapes"
fi

dups=$(for x in $LAYERS; do headers "$x"; done | sort | uniq -d | tr '\n' ' ')
if [ -z "$dups" ]; then
    ok "no two layers have a header of the same name"
else
    not_ok "no two layers have a header of the same name" "shared: $dups"
fi

# position LAYER: LAYER's place in LAYERS, 1 for the bottom one.
position() {
    echo $LAYERS | tr ' ' '\n' | grep -n -x "$1" | cut -d: -f1
}

for x in $LAYERS; do
    first=$(inc "$x" | cut -d' ' -f1)
    problems=""
    [ "$first" = "$x" ] || problems="its first include folder is $first, not its own"
    for y in $(inc "$x"); do
        if [ "$(position "$y")" -gt "$(position "$x")" ]; then
            problems="$problems${problems:+; }lists $y, a layer above it"
        fi
    done
    for y in $(inc "$x"); do
        for z in $(inc "$y"); do
            # shellcheck disable=SC2046 # the list is words
            in_list "$z" $(inc "$x") || problems="$problems${problems:+; }lists $y but not $z, which $y includes"
        done
    done
    if [ -z "$problems" ]; then
        ok "layer $x includes itself first, no layer above it, and what its lower layers include"
    else
        not_ok "layer $x includes itself first, no layer above it, and what its lower layers include" "$problems"
    fi
done

# The build uses those lists: the command make would run for a file of
# each layer (make -n) has exactly that layer's -I flags, in order.
for x in $LAYERS; do
    c=""
    for f in src/"$x"/*.c; do
        [ -f "$f" ] && c=$f && break
    done
    [ -n "$c" ] || continue
    obj=$TMP/b/obj/$x/$(basename "$c" .c).o
    want=$(for d in $(inc "$x"); do printf '%s ' "-Isrc/$d"; done)
    got=$("$MAKE" --no-print-directory -n BUILD="$TMP/b" "$obj" 2>"$TMP/err" | grep -F -- "-o $obj" |
        tr ' ' '\n' | grep '^-Isrc/' | tr '\n' ' ')
    if [ -n "$got" ] && [ "$got" = "$want" ]; then
        ok "make compiles $c with the include folders of $x alone"
    else
        not_ok "make compiles $c with the include folders of $x alone" "want: $want" "got: $got $(head -c 200 "$TMP/err")"
    fi
done

# ---------------------------------------------------------------------------
# Every pair of layers.

# compile LAYER FILE [MODE]: compiles FILE (standing in src/LAYER) with
# LAYER's include flags and MODE (default -fsyntax-only; -E or "-M -MG"
# write to $TMP/cc.out); stderr in $TMP/cc.err.
compile() {
    flags=""
    for d in $(inc "$1"); do
        flags="$flags -Isrc/$d"
    done
    # shellcheck disable=SC2086 # flags are words
    "$CC" $CFLAGS_BASE $flags ${3:--fsyntax-only} "$2" >"$TMP/cc.out" 2>"$TMP/cc.err"
}

for x in $LAYERS; do
    mkdir -p "$TMP/src/$x"
    for y in $LAYERS; do
        hs=$(headers "$y")
        if [ -z "$hs" ]; then
            ok "layer $x and layer $y # SKIP src/$y has no header"
            continue
        fi
        probe=$TMP/src/$x/probe_$y.c
        # shellcheck disable=SC2046 # the list is words
        if in_list "$y" $(inc "$x"); then
            for h in $hs; do
                printf '#include "%s"\n' "$h"
            done >"$probe"
            if compile "$x" "$probe"; then
                ok "a file in src/$x can include every header of $y ($(echo $hs | wc -w | tr -d ' '))"
            else
                not_ok "a file in src/$x can include every header of $y" "$(head -n 5 "$TMP/cc.err")"
            fi
        else
            # A one-line file including Y's first header must fail, the
            # header not found (or, should a system header have its name,
            # as src/format/png.h has libpng's, src/Y must not be reached).
            # Then every header of Y at once through -M -MG (a header not
            # found is listed, not an error): none may come from src/Y.
            problems=""
            h=$(echo $hs | cut -d' ' -f1)
            printf '#include "%s"\n' "$h" >"$probe"
            if compile "$x" "$probe" -E; then
                if grep -qF "src/$y/$h\"" "$TMP/cc.out"; then
                    problems="src/$y/$h is reached"
                fi
            elif ! grep -q "$h" "$TMP/cc.err" || ! grep -qiE 'no such file|not found' "$TMP/cc.err"; then
                problems="$h fails for another reason: $(head -n 3 "$TMP/cc.err" | tr '\n' ' ')"
            fi
            for h in $hs; do
                printf '#include "%s"\n' "$h"
            done >"$probe"
            if ! compile "$x" "$probe" "-M -MG"; then
                problems="$problems${problems:+; }cc -M -MG failed: $(head -n 3 "$TMP/cc.err" | tr '\n' ' ')"
            elif grep -qF "src/$y/" "$TMP/cc.out"; then
                problems="$problems${problems:+; }reached: $(tr ' ' '\n' <"$TMP/cc.out" | grep -F "src/$y/" | tr '\n' ' ')"
            fi
            if [ -z "$problems" ]; then
                ok "a file in src/$x cannot include any header of $y"
            else
                not_ok "a file in src/$x cannot include any header of $y" "$problems"
            fi
        fi
    done
done

printf 'layers: %s passed, %s failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]

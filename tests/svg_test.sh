#!/bin/sh
# svg_test.sh - runs the real attn-trace binary with --svg and checks the
# files it writes: well-formed XML (xmllint --noout) with the SVG root,
# one heat map per head, masked cells, hostile words escaped, the raster
# images of a large configuration; and the bad cases, each exactly one
# "attn-trace: " line with its documented status and no file left behind.
#
#   tests/svg_test.sh build/attn-trace
#
# Prints TAP-style "ok N - ..." / "not ok N - ..." lines, then
# "svg: N passed, M failed"; exits 1 when any check failed. xmllint comes
# from Debian's libxml2-utils; without it the other checks still run, the
# well-formedness checks are left out, and the script ends with
# "svg: skipped: ..." and exit 77 (which fails the run under CI, where
# .ci/run installs it).

BIN=${1:-build/attn-trace}
case $BIN in
    */*) ;;
    *) BIN=./$BIN ;;
esac
if [ ! -x "$BIN" ]; then
    echo "svg_test.sh: $BIN is not an executable (build it with make build-bin)" >&2
    exit 2
fi

LC_ALL=C
export LC_ALL

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-svg-test.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

OUT=$TMP/out
ERR=$TMP/err

. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/cli_lib.sh"

have_xmllint=false
command -v xmllint >/dev/null 2>&1 && have_xmllint=true

# count FILE TEXT: how many times the fixed TEXT occurs in FILE.
count() {
    grep -oF -e "$2" "$1" | wc -l | tr -d ' '
}

# good DESCRIPTION FILE HEATMAPS ARGS...: --svg FILE ARGS... exits 0 with
# nothing on stdout or stderr, and FILE is a well-formed SVG document with
# HEATMAPS heat maps.
good() {
    desc=$1
    file=$2
    maps=$3
    shift 3
    run --svg "$file" "$@"
    problems=""
    [ "$status" -eq 0 ] || problems="exit status $status: $(show "$ERR")"
    [ -s "$OUT" ] && problems="$problems${problems:+; }stdout is not empty"
    [ -s "$ERR" ] && problems="$problems${problems:+; }stderr: $(show "$ERR")"
    if [ ! -s "$file" ]; then
        problems="$problems${problems:+; }no file written"
    else
        head -c 200 "$file" | grep -q '^<svg xmlns="http://www.w3.org/2000/svg" ' ||
            problems="$problems${problems:+; }no SVG root: $(show "$file")"
        grep -q 'viewBox="0 0 [0-9]* [0-9]*"' "$file" || problems="$problems${problems:+; }no viewBox"
        [ "$(count "$file" 'class="heatmap"')" = "$maps" ] ||
            problems="$problems${problems:+; }$(count "$file" 'class="heatmap"') heat maps, expected $maps"
        if $have_xmllint && ! xmllint --noout "$file" 2>"$TMP/xmllint"; then
            problems="$problems${problems:+; }not well-formed: $(head -c 300 "$TMP/xmllint" | tr '\n' ' ')"
        fi
    fi
    if [ -z "$problems" ]; then
        ok "$desc"
    else
        not_ok "$desc" "$problems"
    fi
}

# ---------------------------------------------------------------------------
# Good runs.

good "default: mh_softmax, one heat map per head" "$TMP/default.svg" 4
if [ "$(count "$TMP/default.svg" '<title>head ')" = 100 ] &&
    grep -qF '<title>head 1 · query ‘my’ → key ‘my’: 0.4915</title>' "$TMP/default.svg"; then
    ok "default: a tooltip per cell, with the value at --precision 4"
else
    not_ok "default: a tooltip per cell" "$(count "$TMP/default.svg" '<title>head ') tooltips"
fi

good "--step all_tokens: one map of the attention weights" "$TMP/all.svg" 1 --step all_tokens
if grep -qF 'font-weight="bold">Step 10 · all_tokens · Every token at once</text>' "$TMP/all.svg"; then
    ok "--step all_tokens: titled with the step"
else
    not_ok "--step all_tokens: titled with the step" "$(grep -m1 'font-size="18"' "$TMP/all.svg")"
fi

good "--step 13 (mh_scores) --causal" "$TMP/causal.svg" 4 --step 13 --causal
masked=$(count "$TMP/causal.svg" 'class="masked"')
if [ "$masked" = 40 ] && grep -qF 'masked: a later key, -inf' "$TMP/causal.svg"; then
    ok "--causal: the 4 x 10 cells above the diagonal are drawn masked, and the legend says so"
else
    not_ok "--causal: masked cells" "$masked masked cells, expected 40"
fi

good "--step softmax: one query's weights as a one-row map" "$TMP/a1.svg" 1 --step softmax --focus 2

good "--precision 2" "$TMP/p2.svg" 4 --precision 2
if grep -qF '<title>head 1 · query ‘my’ → key ‘my’: 0.49</title>' "$TMP/p2.svg"; then
    ok "--precision 2: values with two digits"
else
    not_ok "--precision 2: values with two digits" "$(grep -m1 -o '<title>head 1 · [^<]*' "$TMP/p2.svg")"
fi

HOSTILE="<script>alert(1)</script> &amp; \"quoted\" 'single' ]]> <!-- supercalifragilisticexpialidocious"
good "a hostile sentence" "$TMP/hostile.svg" 4 --sentence "$HOSTILE" --causal
if ! grep -q '<script' "$TMP/hostile.svg" && grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$TMP/hostile.svg" &&
    grep -qF '>supercalifr…</text>' "$TMP/hostile.svg"; then
    ok "a hostile sentence: every word escaped, long words shortened"
else
    not_ok "a hostile sentence: every word escaped, long words shortened" "$(grep -m3 -o '.\{0,20\}script.\{0,20\}' "$TMP/hostile.svg")"
fi

WORDS=""
i=0
while [ $i -lt 100 ]; do
    WORDS="$WORDS word$i"
    i=$((i + 1))
done
good "a big configuration (100 tokens, d 64, 4 heads)" "$TMP/big.svg" 4 --d-model 64 --heads 4 --sentence "$WORDS"
images=$(count "$TMP/big.svg" '<image ')
rects=$(count "$TMP/big.svg" '<rect ')
if [ "$images" = 4 ] && [ "$rects" -lt 20 ] && grep -qF 'xlink:href="data:image/png;base64,iVBORw0KGgo' "$TMP/big.svg"; then
    ok "a big configuration: each head a PNG image, not 40000 rectangles"
else
    not_ok "a big configuration: each head a PNG image" "$images images, $rects rectangles"
fi

"$BIN" --svg - >"$TMP/stdout.svg" 2>"$ERR"
if [ $? -eq 0 ] && [ ! -s "$ERR" ] && cmp -s "$TMP/stdout.svg" "$TMP/default.svg"; then
    ok "--svg - writes the same document to stdout"
else
    not_ok "--svg - writes the same document to stdout" "$(show "$ERR")"
fi

# ---------------------------------------------------------------------------
# Bad runs: one line, the documented status, no file.

bad 2 "has no attention scores or weights" "--step embed: a step that cannot be drawn" -- \
    --svg "$TMP/embed.svg" --step embed
if grep -qF 'scores, scale, softmax, all_tokens, mh_scores, mh_softmax' "$ERR" && [ ! -e "$TMP/embed.svg" ]; then
    ok "--step embed: the message lists the steps that can be drawn, and no file is made"
else
    not_ok "--step embed: the message lists the steps that can be drawn" "$(show "$ERR")"
fi
bad 2 "numbered 1 to 17" "--step 18: out of range" -- --svg "$TMP/x.svg" --step 18
bad 2 "numbered 1 to 17" "--step 0: out of range" -- --svg "$TMP/x.svg" --step 0
bad 2 "unknown step" "--step bogus" -- --svg "$TMP/x.svg" --step bogus
bad 2 "--svg: needs a file name" "--svg with an empty name" -- --svg ""
bad 2 "--svg" "--svg needs a value" -- --svg
bad 2 "cannot be used with" "--svg with --json" -- --svg "$TMP/x.svg" --json
: >"$TMP/plain-file"
bad 1 "cannot write" "an unwritable path (a file as a directory)" -- --svg "$TMP/plain-file/x.svg"
bad 1 "cannot write" "a directory as the file" -- --svg "$TMP"
"$BIN" --svg - >/dev/full 2>"$ERR"
if [ $? -eq 1 ] && [ "$(wc -l <"$ERR" | tr -d ' ')" = 1 ] && grep -q '^attn-trace: cannot write the output' "$ERR"; then
    ok "--svg - to /dev/full: status 1 and one line"
else
    not_ok "--svg - to /dev/full: status 1 and one line" "$(show "$ERR")"
fi
[ ! -e "$TMP/x.svg" ] && ok "no bad run left a file" || not_ok "no bad run left a file"

# A write that fails half-way (a file size limit, its signal ignored so the
# write fails with EFBIG) keeps the old file and leaves no temporary.
cp "$TMP/default.svg" "$TMP/keep.svg"
(
    trap '' XFSZ
    ulimit -f 64
    exec "$BIN" --svg "$TMP/keep.svg" --d-model 64 --heads 4 --sentence "$WORDS"
) >"$OUT" 2>"$ERR"
status=$?
leftovers=$(find "$TMP" -name 'keep.svg.tmp.*' | wc -l | tr -d ' ')
if [ "$status" -eq 1 ] && grep -q '^attn-trace: .*keep.svg: cannot write' "$ERR" &&
    cmp -s "$TMP/keep.svg" "$TMP/default.svg" && [ "$leftovers" = 0 ]; then
    ok "a write that fails half-way keeps the old file and leaves no temporary file"
else
    not_ok "a write that fails half-way keeps the old file" "status $status, $leftovers temporaries: $(show "$ERR")"
fi

if ! $have_xmllint; then
    echo "svg: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] || exit 1
    echo "svg: skipped: xmllint not installed (Debian: libxml2-utils); the files were not checked as XML"
    exit 77
fi
echo "svg: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

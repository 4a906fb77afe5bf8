#!/bin/sh
# floatfmt_all.sh - runs tests/floatfmt_all.c over every float32 bit
# pattern (about ten minutes of CPU), by hand; make check runs the
# dense sample of tests/check_floatfmt.c instead. Arguments go to the
# program (FIRST END STEP COMPARE).
set -eu
cd "$(dirname "$0")/.."
mkdir -p build
${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -Isrc/base -o build/floatfmt-all tests/floatfmt_all.c \
    src/base/floatfmt.c -lm
exec build/floatfmt-all "$@"

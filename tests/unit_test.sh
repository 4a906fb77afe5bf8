#!/bin/sh
# unit_test.sh - runs the Check unit tests (build/run-tests) one suite per
# process (CK_RUN_SUITE), JOBS suites at a time, and prints their output in
# the order of the suites' names with a total at the end.
#
#   tests/unit_test.sh build/run-tests
#
# The suites are the suite_create("NAME") of tests/check_*.c. A suite that
# runs no check (a name the runner does not know: not added in
# tests/run_tests.c) is a failure, so none is skipped silently.
# ATTN_TEST_JOBS (default: the number of cores) sets JOBS; ATTN_UNIT_XML,
# when set, is a directory that gets each suite's Check XML log (with every
# test's duration), NAME.xml. ATTN_UNIT_WRAPPER, when set, is a command
# (words) each run goes through, such as valgrind and its options (make
# valgrind). CK_DEFAULT_TIMEOUT, CK_TIMEOUT_MULTIPLIER and CK_FORK pass
# through to Check as usual.
#
# Prints each suite's Check output, then "unit: N checks in S suites, F
# failed"; exits 1 when a check failed or a suite did not run.

RUNNER=${1:-build/run-tests}
case $RUNNER in
    */*) ;;
    *) RUNNER=./$RUNNER ;;
esac
if [ ! -x "$RUNNER" ]; then
    echo "unit_test.sh: $RUNNER is not an executable (build it with make build-tests)" >&2
    exit 2
fi
RUNNER=$(cd "$(dirname "$RUNNER")" && pwd)/$(basename "$RUNNER")
cd "$(dirname "$0")/.." || exit 2

TMP=$(mktemp -d "${TMPDIR:-/tmp}/attn-unit-test.XXXXXX") || exit 2
lanes=""
# shellcheck disable=SC2086 # a list of process ids
trap '[ -z "$lanes" ] || kill $lanes 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM HUP

SUITES=$(sed -n 's/.*suite_create("\([A-Za-z0-9_]*\)").*/\1/p' tests/check_*.c | LC_ALL=C sort -u | tr '\n' ' ')
if [ -z "$SUITES" ]; then
    echo "unit_test.sh: no suite_create(\"...\") in tests/check_*.c" >&2
    exit 2
fi
# The slowest suites first, so that they do not start last.
SLOW="kernels golden torchmath svg explain progress"
ORDER=""
for s in $SLOW; do
    case " $SUITES " in *" $s "*) ORDER="$ORDER $s" ;; esac
done
for s in $SUITES; do
    case " $SLOW " in *" $s "*) ;; *) ORDER="$ORDER $s" ;; esac
done

JOBS=${ATTN_TEST_JOBS:-$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}
case $JOBS in
'' | *[!0-9]* | 0) JOBS=1 ;;
esac

# lane: runs suites nobody has claimed yet (mkdir is atomic), in ORDER.
lane() {
    for s in $ORDER; do
        mkdir "$TMP/claim-$s" 2>/dev/null || continue
        status=0
        if [ -n "${ATTN_UNIT_XML:-}" ]; then
            CK_XML_LOG_FILE_NAME=$ATTN_UNIT_XML/$s.xml
            export CK_XML_LOG_FILE_NAME
        fi
        # shellcheck disable=SC2086 # the wrapper is a list of words
        CK_RUN_SUITE=$s ${ATTN_UNIT_WRAPPER:-} "$RUNNER" >"$TMP/$s.log" 2>&1 || status=$?
        echo "$status" >"$TMP/$s.status"
    done
}

[ -z "${ATTN_UNIT_XML:-}" ] || mkdir -p "$ATTN_UNIT_XML"
i=0
while [ "$i" -lt "$JOBS" ]; do
    lane &
    lanes="$lanes $!"
    i=$((i + 1))
done
# shellcheck disable=SC2086 # a list of process ids
wait $lanes
lanes="" # all ended: nothing for the cleanup to stop

checks=0
bad=0
nsuites=0
for s in $SUITES; do
    nsuites=$((nsuites + 1))
    cat "$TMP/$s.log" 2>/dev/null
    status=$(cat "$TMP/$s.status" 2>/dev/null)
    # Check's last line: "100%: Checks: 12, Failures: 0, Errors: 0"
    n=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\),.*/\1/p' "$TMP/$s.log" 2>/dev/null | tail -n 1)
    f=$(sed -n 's/^[0-9]*%: Checks: [0-9]*, Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2/p' "$TMP/$s.log" 2>/dev/null |
        tail -n 1 | awk '{ print $1 + $2 }')
    if [ -z "$n" ] || [ "$n" -eq 0 ]; then
        echo "unit_test.sh: the suite $s ran no check (is it added in tests/run_tests.c?); status ${status:-none}"
        bad=$((bad + 1))
        continue
    fi
    checks=$((checks + n))
    bad=$((bad + ${f:-0}))
    if [ "${status:-1}" != 0 ] && [ "${f:-0}" -eq 0 ]; then
        echo "unit_test.sh: the suite $s exited with status ${status:-none}"
        bad=$((bad + 1))
    fi
done
printf 'unit: %s checks in %s suites, %s failed\n' "$checks" "$nsuites" "$bad"
[ "$bad" -eq 0 ]

#!/bin/sh
# tests/bench.sh BIN - the performance table of `make bench`.
#
# For s = 5, 64, 128, 512 and 1024 tokens at d_model 768 with 12 heads, and
# for each thread count in $BENCH_THREADS (default "1 2"):
#   - attn-trace's trace time: `BIN --bench RUNS --tokens S ...`, the median;
#   - PyTorch's time for the article's code at the same size and threads
#     (tests/bench_torch.py), when /usr/bin/python3 can import torch;
#     otherwise the column says "skipped" and why;
#   - the ratio PyTorch / attn-trace (1.0 or more: attn-trace is as fast or
#     faster), attn-trace's GFLOP/s, its peak RSS against the bound
#     1.2 x tensors + 16 MiB;
#   - the frame times of `BIN --bench-frames` at 120x40 (median and p99 of
#     the key-to-frame time over a walk through every step).
#   - torch.nn.MultiheadAttention's time at the same size (it keeps nothing),
#     and its ratio to attn-trace.
# PyTorch runs on OpenBLAS when it can: $BENCH_BLAS_DIR, else Debian's
# /usr/lib/x86_64-linux-gnu/openblas-pthread (libopenblas0-pthread), is put
# first in LD_LIBRARY_PATH for it (a directory holding libblas.so.3; an
# unpacked `apt-get download libopenblas0-pthread` works too, without
# changing the system's BLAS); without one torch uses the reference BLAS,
# about 10 to 30 times slower, and the BLAS column says so.
# Prints a Markdown table. With BENCH_UPDATE=FILE it also puts the table,
# with the machine it was measured on, between the lines
# "<!-- bench:begin -->" and "<!-- bench:end -->" of FILE.
# Exit status: 0, or 1 when attn-trace fails, a frame p99 is over 5 ms or
# the memory bound does not hold (the ratio is reported, not enforced:
# PyTorch's speed depends on its BLAS).
set -u
BIN=${1:?usage: tests/bench.sh BIN}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${BENCH_PYTHON:-/usr/bin/python3}
THREADS=${BENCH_THREADS:-1 2}
SIZES=${BENCH_SIZES:-5 64 128 512 1024}
D=768
H=12

runs_for() {
    case $1 in
        5|64|128) echo 20 ;;
        512) echo 10 ;;
        *) echo 5 ;;
    esac
}

BLAS_DIR=${BENCH_BLAS_DIR:-/usr/lib/x86_64-linux-gnu/openblas-pthread}
[ -e "$BLAS_DIR/libblas.so.3" ] || BLAS_DIR=""
torch_note=""
if ! "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
    torch_note="skipped: $PYTHON cannot import torch (Debian: apt-get install python3-torch libopenblas0-pthread)"
fi

status=0
table=$(mktemp "${TMPDIR:-/tmp}/attn-bench.XXXXXX") || exit 1
trap 'rm -f "$table"' EXIT
{
    echo "| threads | s | attn-trace ms | PyTorch ms | ratio | nn.MultiheadAttention ms | ratio | GFLOP/s | peak RSS MiB | bound MiB | frame median ms | frame p99 ms |"
    echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$table"
blas="-"
for t in $THREADS; do
    for s in $SIZES; do
        runs=$(runs_for "$s")
        out=$("$BIN" --bench "$runs" --tokens "$s" --d-model $D --heads $H --threads "$t" 2>&1) || {
            echo "bench: attn-trace failed at s=$s threads=$t: $out" >&2
            status=1
            continue
        }
        ours=$(echo "$out" | sed -n 's/^bench: trace median \([0-9.]*\) ms.*/\1/p')
        gflops=$(echo "$out" | sed -n 's/.* \([0-9.]*\) GFLOP\/s.*/\1/p')
        rss=$(echo "$out" | sed -n 's/.*peak RSS \([0-9.]*\) MiB for \([0-9.]*\) MiB of tensors.*/\1/p')
        tensors=$(echo "$out" | sed -n 's/.*peak RSS \([0-9.]*\) MiB for \([0-9.]*\) MiB of tensors.*/\2/p')
        bound=$(awk -v t="$tensors" 'BEGIN { printf "%.1f", 1.2 * t + 16 }')
        if awk -v r="$rss" -v b="$bound" 'BEGIN { exit !(r > b) }'; then
            echo "bench: peak RSS $rss MiB over the bound $bound MiB at s=$s threads=$t" >&2
            status=1
        fi
        frames=$("$BIN" --bench-frames --tokens "$s" --d-model $D --heads $H --threads "$t" 2>&1) || {
            echo "bench: --bench-frames failed at s=$s: $frames" >&2
            status=1
        }
        fmed=$(echo "$frames" | sed -n 's/^bench-frames: .* median \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1/p')
        fp99=$(echo "$frames" | sed -n 's/^bench-frames: .* median \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\2/p')
        if awk -v p="${fp99:-999}" 'BEGIN { exit !(p > 5) }'; then
            echo "bench: frame p99 ${fp99:-?} ms over 5 ms at s=$s threads=$t" >&2
            status=1
        fi
        theirs="skipped"
        ratio="-"
        mha="skipped"
        mha_ratio="-"
        if [ -z "$torch_note" ]; then
            line=$(LD_LIBRARY_PATH="${BLAS_DIR:+$BLAS_DIR:}${LD_LIBRARY_PATH:-}" \
                OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t MKL_NUM_THREADS=$t \
                "$PYTHON" "$HERE/bench_torch.py" "$s" $D $H "$runs" "$t" 2>&1)
            theirs=$(echo "$line" | sed -n 's/^torch: median \([0-9.]*\) ms.*/\1/p')
            blas=$(echo "$line" | sed -n 's/.* blas=\([a-z]*\).*/\1/p')
            mha=$(echo "$line" | sed -n 's/.* mha=\([0-9.]*\) ms.*/\1/p')
            if [ -n "$theirs" ]; then
                ratio=$(awk -v a="$theirs" -v b="$ours" 'BEGIN { printf "%.2f", a / b }')
                mha_ratio=$(awk -v a="${mha:-0}" -v b="$ours" 'BEGIN { printf "%.2f", a / b }')
            else
                theirs="failed"
                echo "bench: PyTorch failed at s=$s: $line" >&2
            fi
        fi
        echo "| $t | $s | $ours | $theirs | $ratio | $mha | $mha_ratio | $gflops | $rss | $bound | $fmed | $fp99 |" >>"$table"
        echo "bench: threads $t, s=$s: attn-trace $ours ms, PyTorch $theirs ms (ratio $ratio), nn.MultiheadAttention $mha ms (ratio $mha_ratio)" >&2
    done
done

cat "$table"
[ -n "$torch_note" ] && echo "PyTorch: $torch_note"

if [ -n "${BENCH_UPDATE:-}" ]; then
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
    cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo "?")
    torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null || echo "not importable")
    machine="Measured $(date -u +%Y-%m-%d) on ${cpu:-an unknown CPU} ($cores cores, $(uname -sm)), $("${CC:-cc}" --version 2>/dev/null | head -1); PyTorch $torch_version with BLAS: ${blas}."
    new=$(mktemp "${TMPDIR:-/tmp}/attn-bench-doc.XXXXXX") || exit 1
    awk -v machine="$machine" -v table="$table" '
        /<!-- bench:begin -->/ { print; print ""; print machine; print ""; while ((getline l < table) > 0) print l; print ""; skip = 1; next }
        /<!-- bench:end -->/ { skip = 0 }
        !skip { print }' "$BENCH_UPDATE" >"$new" && mv "$new" "$BENCH_UPDATE"
    echo "bench: table written to $BENCH_UPDATE" >&2
fi
exit $status

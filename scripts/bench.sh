#!/usr/bin/env bash
# Re-runs every figure of BENCHMARKS.md on this machine.
#
#   scripts/bench.sh [RUNS]        (default 5 runs per figure; medians are printed)
#
# Needs /usr/bin/time (Debian package `time`). Work files go to $BENCH_WORK
# (default /tmp/didbill-bench); the release build to $CARGO_TARGET_DIR (default target).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-5}
WORK=${BENCH_WORK:-/tmp/didbill-bench}
TARGET=${CARGO_TARGET_DIR:-target}
PORT=${BENCH_PORT:-18787}
AS_OF=2026-12-02T00:00:00Z
# The 1,000,000-number snapshot is about 800 MB, above the default read limit.
export DIDBILL_MAX_SNAPSHOT_MIB=4096
mkdir -p "$WORK"
# 100,000 customers need more than the default five-digit invoice sequence.
printf '[invoice]\nnumber_format = "{prefix}/{fy}/{seq:06}"\n' > "$WORK/bench.toml"

cargo build --release --locked --bin didbill --example gen_inventory --example fake_vobiz
BIN=$TARGET/release/didbill
GEN=$TARGET/release/examples/gen_inventory
FAKE=$TARGET/release/examples/fake_vobiz

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# measure NAME CMD...: runs CMD $RUNS times from a clean output folder and ledger,
# prints the median wall time (s) and the median peak resident memory (MB).
measure() {
    local name=$1
    shift
    : > "$WORK/$name.times"
    for i in $(seq "$RUNS"); do
        # The previous run's outputs are moved aside and deleted only after the
        # last run: on ext4, creating files just after deleting thousands costs up
        # to 0.5 ms each (the allocator skips recently freed inodes), which a real
        # month's run, writing a new folder, does not pay.
        mkdir -p "$WORK/trash/$i"
        mv "$WORK/out" "$WORK/ledger.sqlite"* "$WORK/trash/$i/" 2> /dev/null || true
        /usr/bin/time -f "%e %M" -o "$WORK/time.one" "$@" > /dev/null 2> "$WORK/$name.stderr"
        cat "$WORK/time.one" >> "$WORK/$name.times"
    done
    rm -rf "$WORK/trash"
    local wall mem
    wall=$(awk '{ print $1 }' "$WORK/$name.times" | median)
    mem=$(awk '{ print $2 / 1024 }' "$WORK/$name.times" | median)
    printf '%-28s median wall %6.2f s   median peak RSS %7.1f MB   (runs: %s)\n' \
        "$name" "$wall" "$mem" "$(awk '{ printf "%s ", $1 }' "$WORK/$name.times")"
}

run_args() { echo run --period 2026-11 --as-of "$AS_OF" --config "$WORK/bench.toml" --out "$WORK/out" --ledger "$WORK/ledger.sqlite" --quiet; }

[ -d "$WORK/inv-20k" ] || "$GEN" --customers 2000 --numbers 20000 --seed 1 --out "$WORK/inv-20k"
[ -d "$WORK/inv-100k" ] || "$GEN" --customers 10000 --numbers 100000 --seed 1 --out "$WORK/inv-100k"
[ -d "$WORK/inv-1m" ] || "$GEN" --customers 100000 --numbers 1000000 --seed 1 --out "$WORK/inv-1m"

echo "== (a) fetch through the fake Vobiz API, 20 ms per request, concurrency 8"
export VOBIZ_AUTH_ID=MA_BENCH VOBIZ_AUTH_TOKEN=bench-token VOBIZ_API_BASE=http://127.0.0.1:$PORT/api/v1/partner
"$FAKE" "$WORK/inv-20k" --port "$PORT" --latency-ms 20 > /dev/null 2>&1 &
FAKE_PID=$!
trap 'kill $FAKE_PID 2> /dev/null || true' EXIT
sleep 1
: > "$WORK/fetch.requests"
for _ in $(seq "$RUNS"); do
    rm -rf "$WORK/fetched"
    RUST_LOG=didbill::vobiz::fetch=debug /usr/bin/time -f "%e %M" -o "$WORK/time.one" \
        "$BIN" fetch --out "$WORK/fetched" --quiet 2> "$WORK/fetch.log"
    requests=$(grep -o 'requests=[0-9]*' "$WORK/fetch.log" | tail -1 | cut -d= -f2)
    echo "$(cat "$WORK/time.one") $requests" >> "$WORK/fetch.requests"
done
requests=$(awk '{ print $3 }' "$WORK/fetch.requests" | median)
wall=$(awk '{ print $1 }' "$WORK/fetch.requests" | median)
floor=$(awk -v r="$requests" 'BEGIN { printf "%.2f", r * 0.020 / 8 }')
printf 'fetch 2,000/20,000: %s requests, median wall %s s, floor %s s, ratio %.2f (runs: %s)\n' \
    "$requests" "$wall" "$floor" "$(awk -v w="$wall" -v f="$floor" 'BEGIN { print w / f }')" \
    "$(awk '{ printf "%s ", $1 }' "$WORK/fetch.requests")"
kill $FAKE_PID 2> /dev/null || true

echo "== (b) full run from a snapshot, 2,000 customers / 20,000 numbers, every output"
# shellcheck disable=SC2046
measure full-20k "$BIN" $(run_args) --source "$WORK/inv-20k" --csv xero,zoho,quickbooks

echo "== (c) CSV-only runs"
# shellcheck disable=SC2046
measure csv-100k "$BIN" $(run_args) --source "$WORK/inv-100k" --no-pdf
# shellcheck disable=SC2046
measure csv-1m "$BIN" $(run_args) --source "$WORK/inv-1m" --no-pdf

echo "== (d) criterion: cargo bench --bench engine / --bench pdf"
cargo bench --locked --bench engine -- --noplot 2>&1 | grep -E '^engine|time:|thrpt:'
cargo bench --locked --bench pdf -- --noplot 2>&1 | grep -E '^pdf|time:|thrpt:'

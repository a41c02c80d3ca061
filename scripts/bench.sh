#!/usr/bin/env bash
# Re-runs every figure of BENCHMARKS.md on this machine.
#
#   scripts/bench.sh [RUNS]        (default 5 runs per figure; medians are printed)
#
# Needs /usr/bin/time (Debian package `time`). Work files go to $BENCH_WORK
# (default /tmp/didbill-bench); the release build to $CARGO_TARGET_DIR (default target).
#
# The sizes are customers:numbers and can be changed (tests/it/bench_smoke.rs runs the
# whole procedure at a tiny size this way):
#   BENCH_FULL=2000:20000        (a) the fetch and (b) the full run
#   BENCH_CSV=10000:100000       (c) the smaller CSV-only run
#   BENCH_CSV_LARGE=100000:1000000   (c) the larger one
#   BENCH_GSTR1=110000:330000    (e) the month whose ledger `gstr1` reads (~100,000 invoices)
#   BENCH_BIN_DIR=DIR            use DIR/didbill and DIR/examples/* instead of building
#   BENCH_CRITERION=0            skip (d), the criterion benches
#   BENCH_PORT=N                 the fake API's port (default: any free one)
#
# Under a PostgreSQL server (PGHOST set, e.g. `pg_virtualenv scripts/bench.sh`), (f)
# re-runs (b) and the larger (c) with a PostgreSQL ledger, a new database each run.
set -euo pipefail
# Failures inside $(...) stop the script too; numbers are printed with a decimal point.
shopt -s inherit_errexit
export LC_ALL=C
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/time ]; then
    echo "scripts/bench.sh needs /usr/bin/time (Debian package \`time\`)" >&2
    exit 1
fi

RUNS=${1:-5}
WORK=${BENCH_WORK:-/tmp/didbill-bench}
TARGET=${CARGO_TARGET_DIR:-target}
PORT=${BENCH_PORT:-0}
FULL=${BENCH_FULL:-2000:20000}
CSV=${BENCH_CSV:-10000:100000}
CSV_LARGE=${BENCH_CSV_LARGE:-100000:1000000}
GSTR1=${BENCH_GSTR1:-110000:330000}
AS_OF=2026-12-02T00:00:00Z
# The 1,000,000-number snapshot is about 800 MB, above the default read limit.
export DIDBILL_MAX_SNAPSHOT_MIB=4096
mkdir -p "$WORK"
# 100,000 customers need more than the default five-digit invoice sequence.
printf '[seller]\nname = "Bench Telecom Pvt Ltd"\naddress = ["1 MG Road", "Bengaluru 560001"]\ngstin = "29ABCDE1234F1ZW"\n\n[fx]\nUSD = "84.35"\n\n[invoice]\nnumber_format = "{prefix}/{fy}/{seq:06}"\n' > "$WORK/bench.toml"

if [ -n "${BENCH_BIN_DIR:-}" ]; then
    BINS=$BENCH_BIN_DIR
else
    cargo build --release --locked --bin didbill --example gen_inventory --example fake_vobiz
    BINS=$TARGET/release
fi
BIN=$BINS/didbill
GEN=$BINS/examples/gen_inventory
FAKE=$BINS/examples/fake_vobiz

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# once NAME CMD...: runs CMD once from a clean output folder and ledger and appends
# its wall time (s) and peak resident memory (KB) to $WORK/NAME.times.
once() {
    local name=$1
    shift
    # The previous run's outputs are moved aside and deleted only after the last
    # run (see `measure`): on ext4, creating files just after deleting thousands
    # costs up to 0.5 ms each (the allocator skips recently freed inodes), which a
    # real month's run, writing a new folder, does not pay.
    local trash
    trash=$(mktemp -d "$WORK/trash/XXXXXX")
    mv "$WORK/out" "$WORK/ledger.sqlite"* "$trash/" 2> /dev/null || true
    /usr/bin/time -f "%e %M" -o "$WORK/time.one" "$@" > /dev/null 2> "$WORK/$name.stderr"
    cat "$WORK/time.one" >> "$WORK/$name.times"
}

# report NAME: prints the median wall time and the median peak memory of NAME's runs.
report() {
    local name=$1 wall mem
    wall=$(awk '{ print $1 }' "$WORK/$name.times" | median)
    mem=$(awk '{ print $2 / 1024 }' "$WORK/$name.times" | median)
    printf '%-28s median wall %6.2f s   median peak RSS %7.1f MB   (runs: %s)\n' \
        "$name" "$wall" "$mem" "$(awk '{ printf "%s ", $1 }' "$WORK/$name.times")"
}

# measure NAME CMD...: runs CMD $RUNS times and reports the medians.
measure() {
    local name=$1
    : > "$WORK/$name.times"
    mkdir -p "$WORK/trash"
    for _ in $(seq "$RUNS"); do
        once "$@"
    done
    rm -rf "$WORK/trash"
    report "$name"
}

run_args() { echo run --period 2026-11 --as-of "$AS_OF" --config "$WORK/bench.toml" --out "$WORK/out" --ledger "$WORK/ledger.sqlite" --quiet; }

# snapshot SIZE: the folder of the synthetic snapshot of SIZE (customers:numbers),
# generated with seed 1 the first time.
snapshot() {
    local dir="$WORK/inv-${1/:/-}"
    if [ ! -f "$dir/numbers.json" ]; then
        # Into a temporary folder first, so an interrupted generation is not reused.
        rm -rf "$dir" "$dir.tmp"
        "$GEN" --customers "${1%:*}" --numbers "${1#*:}" --seed 1 --out "$dir.tmp" >&2
        mv "$dir.tmp" "$dir"
    fi
    echo "$dir"
}
# shown SIZE: "2000:20000" → "2000 customers / 20000 numbers"
shown() { echo "${1%:*} customers / ${1#*:} numbers"; }
INV_FULL=$(snapshot "$FULL")
INV_CSV=$(snapshot "$CSV")
INV_CSV_LARGE=$(snapshot "$CSV_LARGE")
INV_GSTR1=$(snapshot "$GSTR1")

echo "== (a) fetch through the fake Vobiz API, 20 ms per request, concurrency 8, $(shown "$FULL")"
export VOBIZ_AUTH_ID=MA_BENCH VOBIZ_AUTH_TOKEN=bench-token
"$FAKE" "$INV_FULL" --port "$PORT" --latency-ms 20 > "$WORK/fake.out" 2> "$WORK/fake.log" &
FAKE_PID=$!
trap 'kill $FAKE_PID 2> /dev/null || true' EXIT
# The fake prints its address once it listens; wait up to 10 s for it.
base=
for _ in $(seq 100); do
    base=$(sed -n 's/^fake Vobiz API serving .* at \(http[^ ]*\)$/\1/p' "$WORK/fake.out")
    [ -n "$base" ] && break
    if ! kill -0 "$FAKE_PID" 2> /dev/null; then
        echo "fake_vobiz stopped:" >&2
        cat "$WORK/fake.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$base" ]; then
    echo "fake_vobiz did not start listening within 10 s" >&2
    exit 1
fi
export VOBIZ_API_BASE=$base
: > "$WORK/fetch.requests"
for _ in $(seq "$RUNS"); do
    rm -rf "$WORK/fetched"
    if ! RUST_LOG=vobiz::fetch=debug /usr/bin/time -f "%e %M" -o "$WORK/time.one" \
        "$BIN" fetch --out "$WORK/fetched" --config "$WORK/bench.toml" --quiet 2> "$WORK/fetch.log"; then
        cat "$WORK/fetch.log" >&2
        exit 1
    fi
    requests=$(grep -o 'requests=[0-9]*' "$WORK/fetch.log" | tail -1 | cut -d= -f2)
    echo "$(cat "$WORK/time.one") $requests" >> "$WORK/fetch.requests"
done
requests=$(awk '{ print $3 }' "$WORK/fetch.requests" | median)
wall=$(awk '{ print $1 }' "$WORK/fetch.requests" | median)
floor=$(awk -v r="$requests" 'BEGIN { printf "%.2f", r * 0.020 / 8 }')
printf 'fetch: %s requests, median wall %s s, floor %s s, ratio %.2f (runs: %s)\n' \
    "$requests" "$wall" "$floor" "$(awk -v w="$wall" -v f="$floor" 'BEGIN { print (f > 0 ? w / f : 0) }')" \
    "$(awk '{ printf "%s ", $1 }' "$WORK/fetch.requests")"
kill "$FAKE_PID" 2> /dev/null || true
wait "$FAKE_PID" 2> /dev/null || true
trap - EXIT

echo "== (b) full run from a snapshot, $(shown "$FULL"), every output"
# shellcheck disable=SC2046
measure full "$BIN" $(run_args) --source "$INV_FULL" --csv xero,zoho,quickbooks

echo "== (c) CSV-only runs, $(shown "$CSV") and $(shown "$CSV_LARGE") taken in turns"
# In turns, so that both sizes meet the same machine: on a shared machine the
# speed drifts by 10-20 % over minutes, which would otherwise bias the ratio.
: > "$WORK/csv.times"
: > "$WORK/csv-large.times"
mkdir -p "$WORK/trash"
for _ in $(seq "$RUNS"); do
    # shellcheck disable=SC2046
    once csv "$BIN" $(run_args) --source "$INV_CSV" --no-pdf
    # shellcheck disable=SC2046
    once csv-large "$BIN" $(run_args) --source "$INV_CSV_LARGE" --no-pdf
done
rm -rf "$WORK/trash"
report csv
report csv-large
paste "$WORK/csv.times" "$WORK/csv-large.times" | awk '{ print ($1 > 0 ? $3 / $1 : 0) }' > "$WORK/csv.ratios"
printf 'larger / smaller: ratio of the medians %.2f; median of the paired ratios %.2f (pairs: %s)\n' \
    "$(awk -v a="$(awk '{ print $1 }' "$WORK/csv-large.times" | median)" \
           -v b="$(awk '{ print $1 }' "$WORK/csv.times" | median)" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
    "$(median < "$WORK/csv.ratios")" "$(awk '{ printf "%.2f ", $1 }' "$WORK/csv.ratios")"

echo "== (e) gstr1 over the ledger of one month, $(shown "$GSTR1")"
# The month is billed once (not measured) into a ledger of its own.
rm -rf "$WORK/gstr1.sqlite"* "$WORK/gstr1-run"
"$BIN" run --period 2026-11 --as-of "$AS_OF" --config "$WORK/bench.toml" --source "$INV_GSTR1" \
    --ledger "$WORK/gstr1.sqlite" --out "$WORK/gstr1-run" --no-pdf --quiet > /dev/null
echo "invoices in the ledger: $(($(wc -l < "$WORK/gstr1-run/invoices.csv") - 1))"
measure gstr1 "$BIN" gstr1 --period 2026-12 --ledger "$WORK/gstr1.sqlite" --config "$WORK/bench.toml" --out "$WORK/out"

if [ -n "${PGHOST:-}" ]; then
    echo "== (f) (b) and the larger (c) with a PostgreSQL ledger on $PGHOST:${PGPORT:-5432}, a new database per run"
    pg_run_args() { echo run --period 2026-11 --as-of "$AS_OF" --config "$WORK/bench.toml" --out "$WORK/out" --ledger "postgres://${PGUSER:-postgres}@$PGHOST:${PGPORT:-5432}/didbill_bench" --quiet; }
    # measure_pg NAME CMD...: `measure` on a new database each run, also printing the
    # median time of the ledger commit (its debug log line).
    measure_pg() {
        local name=$1
        : > "$WORK/$name.times"
        : > "$WORK/$name.commits"
        mkdir -p "$WORK/trash"
        for _ in $(seq "$RUNS"); do
            dropdb --if-exists didbill_bench
            createdb didbill_bench
            RUST_LOG=didbill::ledger=debug once "$@"
            sed -n 's/.*recorded in \([0-9]*\) ms.*/\1/p' "$WORK/$name.stderr" >> "$WORK/$name.commits"
        done
        dropdb --if-exists didbill_bench
        rm -rf "$WORK/trash"
        report "$name"
        printf '%-28s median ledger commit %6.2f s   (runs: %s)\n' "$name" \
            "$(awk '{ print $1 / 1000 }' "$WORK/$name.commits" | median)" \
            "$(awk '{ printf "%.2f ", $1 / 1000 }' "$WORK/$name.commits")"
    }
    # shellcheck disable=SC2046
    measure_pg full-pg "$BIN" $(pg_run_args) --source "$INV_FULL" --csv xero,zoho,quickbooks
    printf 'full run, PostgreSQL / file ledger: %.2f\n' \
        "$(awk -v a="$(awk '{ print $1 }' "$WORK/full-pg.times" | median)" \
               -v b="$(awk '{ print $1 }' "$WORK/full.times" | median)" 'BEGIN { print (b > 0 ? a / b : 0) }')"
    # shellcheck disable=SC2046
    measure_pg csv-large-pg "$BIN" $(pg_run_args) --source "$INV_CSV_LARGE" --no-pdf
fi

[ "${BENCH_CRITERION:-1}" = 0 ] && exit 0
echo "== (d) criterion: cargo bench --bench engine / --bench pdf"
cargo bench --locked --bench engine -- --noplot 2>&1 | grep -E '^engine|time:|thrpt:'
cargo bench --locked --bench pdf -- --noplot 2>&1 | grep -E '^pdf|time:|thrpt:'

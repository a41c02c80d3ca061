#!/usr/bin/env bash
# The delivery figure of BENCHMARKS.md: `didbill send` of a month of about 2,000
# invoices (gen_inventory, 2,000 customers) to Debian's aiosmtpd on 127.0.0.1 with
# `concurrency = 4`, measured with /usr/bin/time (wall time and peak memory of the
# send only; the run before it is not timed).
#
#   scripts/bench-send.sh [BIN_DIR]    (default target/release: didbill and examples/gen_inventory)
#   BENCH_SEND=2000:20000              customers:numbers
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
BINS=$(realpath "${1:-target/release}")
SIZE=${BENCH_SEND:-2000:20000}
PY=/usr/bin/python3
WORK=$(mktemp -d)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

"$BINS/examples/gen_inventory" --customers "${SIZE%:*}" --numbers "${SIZE#*:}" --seed 1 --out "$WORK/snap" >/dev/null
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" -m aiosmtpd -n -l "127.0.0.1:$PORT" -c aiosmtpd.handlers.Sink &
SERVER=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
cd "$WORK"
printf '[seller]\nname = "Bench Telecom Pvt Ltd"\naddress = ["1 MG Road", "Bengaluru 560001"]\ngstin = "29ABCDE1234F1ZW"\nemail = "billing@example.com"\n\n[fx]\nUSD = "84.35"\n\n[smtp]\nhost = "127.0.0.1"\nport = %s\nsecurity = "plain"\nconcurrency = 4\n' "$PORT" >bench.toml
"$BINS/didbill" run --source snap --period 2026-11 --as-of 2026-12-02T00:00:00Z --config bench.toml --out out --quiet >/dev/null
/usr/bin/time -f '%e s wall, %U s user + %S s system CPU, %M KB peak RSS' -o send.time "$BINS/didbill" send --period 2026-11 --source snap --config bench.toml --quiet | tail -1
echo "send: $(cat send.time)"

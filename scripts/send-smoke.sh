#!/usr/bin/env bash
# End-to-end `didbill send` to a real SMTP server: Debian's aiosmtpd (python3-aiosmtpd)
# on 127.0.0.1 saving every message in a Maildir. Bills the demo month, sends it,
# issues a credit note and sends again, and checks that every invoice and the note
# arrived once with its PDF attached byte for byte and that a last send hands
# nothing over.
#
#   scripts/send-smoke.sh [path/to/didbill]     (default: target/debug/didbill)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=$(realpath "${1:-target/debug/didbill}")
PY=/usr/bin/python3   # Debian's python, which has the aiosmtpd package
DEMO=$PWD/fixtures/demo
WORK=$(mktemp -d)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" -m aiosmtpd -n -l "127.0.0.1:$PORT" -c aiosmtpd.handlers.Mailbox "$WORK/maildir" &
SERVER=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done

cd "$WORK"
{
    cat "$DEMO/didbill.toml"
    printf '\n[smtp]\nhost = "127.0.0.1"\nport = %s\nsecurity = "plain"\nbcc = "archive@example.com"\nconcurrency = 2\n' "$PORT"
} >cfg.toml
"$BIN" run --source "$DEMO" --period 2026-11 --as-of 2026-12-02T00:00:00Z --config cfg.toml --out out --quiet >/dev/null
"$BIN" send --period 2026-11 --source "$DEMO" --config cfg.toml
"$BIN" note credit --invoice DID/26-27/00001 --amount 100 --reason "Goodwill" \
    --date 2026-12-05 --as-of 2026-12-06T00:00:00Z --out out --config cfg.toml
"$BIN" send --period 2026-11 --source "$DEMO" --config cfg.toml | tee note.txt
grep -qx "1 sent, 0 not sent, 11 accepted before" note.txt
"$BIN" send --period 2026-11 --source "$DEMO" --config cfg.toml | tee again.txt
grep -qx "0 sent, 0 not sent, 12 accepted before" again.txt

"$PY" - "$WORK/maildir" "$WORK/out/pdf" <<'PY'
import mailbox, pathlib, sys
box, pdfs = mailbox.Maildir(sys.argv[1], create=False), pathlib.Path(sys.argv[2])
seen = {}
for message in box:
    ids = message["Message-ID"]
    parts = [p for p in message.walk() if p.get_content_type() == "application/pdf"]
    assert len(parts) == 1, f"{ids}: {len(parts)} PDF parts"
    name = parts[0].get_filename()
    assert parts[0].get_payload(decode=True) == (pdfs / name).read_bytes(), f"{name} differs"
    assert ids == f"<{name[:-4]}.1@example.com>", ids
    assert message["From"] == '"Demo Telecom Pvt Ltd" <billing@example.com>', message["From"]
    assert message["Bcc"] is None
    seen[name] = seen.get(name, 0) + 1
expected = sorted(p.name for p in pdfs.glob("*.pdf"))
assert sorted(seen) == expected and set(seen.values()) == {1}, seen
assert "CN-26-27-00001.pdf" in seen, seen
print(f"aiosmtpd received {len(seen)} documents (invoices and a credit note), each once, PDFs byte for byte")
PY

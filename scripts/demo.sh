#!/usr/bin/env bash
# Sets up a fresh machine (scripts/setup.sh), then shows the wire format at work:
# an ERC-4527 sign request is split into fountain-coded UR parts, a third of them are
# lost and the rest shuffled, and coldsign-ur reassembles and decodes what is left.
# (The full watcher -> QR -> signer round trip replaces this when the programs exist.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
cd "$root"
out="$root/demo-out"
mkdir -p "$out"
py=.venv/bin/python
ur=.venv/bin/coldsign-ur

# A legacy transaction sign request as Keystone publishes it (ur-registry-eth test vector).
request="ur:eth-sign-request/onadtpdagdndcawmgtfrkigrpmndutdnbtkgfssbjnaohdgryagalalnascsgljpnbaelfdibemwaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaelaoxlbjyihjkjyeyaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaeaehnaehglalalaaxadaaadahtaaddyoeadlecsdwykadykadykaewkadwkaocybgeehfkswdtklffd"
echo "$request" | "$ur" decode > "$out/request.json"
cbor=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["cbor"])' "$out/request.json")

echo "== 1. the request, split into UR parts of 20-byte fragments (first 3 of 3x the minimum):"
echo "$cbor" | "$ur" encode --type eth-sign-request --max-fragment-length 20 --parts 30 > "$out/parts.txt"
head -3 "$out/parts.txt"
echo "   ... $(wc -l < "$out/parts.txt") parts in $out/parts.txt"

echo "== 2. lose 30% of the parts and shuffle the rest (what a camera might see):"
"$py" - "$out/parts.txt" "$out/received.txt" <<'PY'
import random, sys
parts = open(sys.argv[1]).read().split()
rng = random.Random(2026)
kept = [p for p in parts if rng.random() >= 0.3]
rng.shuffle(kept)
open(sys.argv[2], "w").write("\n".join(kept) + "\n")
print(f"   kept {len(kept)} of {len(parts)} parts")
PY

echo "== 3. coldsign-ur decode reassembles and decodes them:"
"$ur" decode "$out/received.txt" | tee "$out/decoded.json"
cmp <("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["cbor"])' "$out/decoded.json") <(echo "$cbor") \
  && echo "== the message came through byte for byte."

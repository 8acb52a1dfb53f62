#!/usr/bin/env python3
"""Verifies a Gatehouse audit CSV export offline, without Gatehouse (FR-LOG-002).

Usage: verify_export.py EXPORT.csv 'VERIFIER_KEY'   (needs: pip install cryptography)

Each row's hash is SHA-256(previous hash || the JSON array of its fields, in jsonb's text
form); the last row is a checkpoint note signed with Ed25519 (C2SP signed note). Exit 0
when intact, 1 with the first problem otherwise. The README carries this same script.
"""
import base64, csv, hashlib, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

def fail(why):
    sys.exit(f"NOT intact: {why}")

path, key = sys.argv[1], sys.argv[2]
name, key_id, key_b64 = key.split("+", 2)
public = base64.b64decode(key_b64)[1:]
cell = lambda v: v[1:] if v.startswith("'") else v            # undo the formula guard
s = lambda v: json.dumps(v, ensure_ascii=False)               # jsonb's string form
o = lambda v: s(v) if v else "null"
rows, note = [], None
with open(path, newline="", encoding="utf-8") as f:
    for r in csv.DictReader(f):
        r = {k: cell(v) for k, v in r.items()}
        if r["seq"] == "checkpoint":
            note = r["metadata"]; continue
        text = "[" + ", ".join([r["seq"], s(r["id"]), s(r["recorded_at"]), s(r["occurred_at"]),
            o(r["tenant_id"]), o(r["actor_id"]), s(r["actor_type"]), s(r["action"]),
            o(r["resource"]), s(r["outcome"]), r["metadata"], o(r["request_id"]),
            s(r["source"]), o(r["application_id"])]) + "]"
        if hashlib.sha256(bytes.fromhex(r["prev_hash"]) + text.encode()).hexdigest() != r["hash"]:
            fail(f"entry {r['seq']} was changed")
        rows.append((int(r["seq"]), r["prev_hash"], r["hash"]))
if note is None:
    fail("no closing checkpoint")
body, sigs = note.split("\n\n", 1)
body += "\n"
sig = next((base64.b64decode(l.split(" ")[2]) for l in sigs.splitlines()
            if l.startswith(f"\u2014 {name} ")), b"")
try:
    Ed25519PublicKey.from_public_bytes(public).verify(sig[4:], body.encode())
except Exception:
    fail("the checkpoint's signature does not verify")
lines = body.splitlines()
size, head = int(lines[1]), base64.b64decode(lines[2]).hex()
export = next((l[7:] for l in lines if l.startswith("export ")), "")
if export.startswith("first "):
    _, first, _, prev = export.split(" ")
    if not rows or rows[0][0] != int(first) or rows[0][1] != base64.b64decode(prev).hex():
        fail("rows were removed or added at the start")
    for (a, _, h), (b, p, _) in zip(rows, rows[1:]):
        if b != a + 1 or p != h:
            fail(f"entry {b} does not follow entry {a}")
    if rows[-1][0] != size or rows[-1][2] != head:
        fail("rows were removed or added at the end")
    print(f"intact: entries {first} to {size}, complete and unchanged, as signed")
elif export == "filtered":
    print(f"every one of the {len(rows)} rows matches its hash (filtered: completeness is checked on the server)")
elif export == "empty" and not rows:
    print("intact: the export is empty")
else:
    fail("the checkpoint is not this export's")

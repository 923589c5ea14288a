"""Computes TestGoldenKey's literals from docs/cache.md's definitions alone
(not from irflow's code): python3 expected.py in this directory."""
import hashlib
import json
import os


def file_digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def dir_digest(root):
    entries = []
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            entries.append((os.path.relpath(p, root).replace(os.sep, "/"), file_digest(p)))
    h = hashlib.sha256(b"irflow-dir-v1\n")
    for path, sha in sorted(entries):
        h.update(path.encode() + b"\0" + sha.encode() + b"\n")
    return h.hexdigest()


# The key parts of golden.g in recipe.hcl: schema 2, the golden kind's
# block, method and version, identity parameters with defaults (threads is
# meta), input digests, and the versions of the components it uses and the
# formats it writes. Compact JSON, fields in this order, map keys sorted.
parts = {
    "schema": 2, "block": "golden", "method": "v1", "version": 3,
    "params": {"depth": 100, "k": 10, "mode": "flat"},
    "inputs": {"docs": file_digest("docs.tsv")},
    "components": {"golden/index": "4", "golden/lib": "1.2.3", "run/trec": "1"},
}
print("wantKey     ", hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest())
print("wantArtifact", dir_digest("artifact"))
print("wantIndex   ", dir_digest("artifact/index"))
print("wantRun     ", file_digest("artifact/run.trec"))

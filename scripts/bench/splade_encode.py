"""transformers side of `task bench:encode-splade`: encodes the same
documents as scripts/bench/encodebench -head splade (BEIR title + " " +
text, or TSV text) with the SPLADE oracle of scripts/oracle/neural
(BertForMaskedLM -> log1p(relu) -> masked max, length-sorted batches) and
prints one JSON line with docs/s and peak RSS.

usage: splade_encode.py MODEL_DIR DOCS [--max-length 512] [--threads 2] [--batch-size 32] [--limit N]
"""
import argparse, json, os, resource, sys, time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "oracle", "neural"))
from retrieve import Splade  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("docs")
ap.add_argument("--max-length", type=int, default=512)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batch-size", type=int, default=32)
ap.add_argument("--limit", type=int, default=0)
a = ap.parse_args()
torch.set_num_threads(a.threads)
texts = []
with open(a.docs, encoding="utf-8") as f:
    for line in f:
        if a.docs.endswith(".jsonl"):
            d = json.loads(line)
            t = (d.get("title") or "") and d["title"] + " " + d["text"] or d["text"]
        else:
            t = line.rstrip("\n").split("\t", 1)[1]
        texts.append(t)
        if a.limit and len(texts) >= a.limit:
            break
m = Splade(a.model)
start = time.time()
vecs = m.encode(texts, a.max_length, a.batch_size)
secs = time.time() - start
print(json.dumps({
    "impl": "transformers", "docs": len(texts), "dim": m.model.config.vocab_size, "seconds": secs,
    "docs_per_s": len(texts) / secs, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "threads": a.threads, "max_length": a.max_length, "batch_size": a.batch_size,
    "nonzeros_per_doc": sum(len(v[0]) for v in vecs) / max(1, len(vecs)),
}))

"""sentence-transformers side of `task bench:encode`: encodes the same
documents as scripts/bench/encodebench (BEIR title + " " + text, or TSV
text) and prints one JSON line with docs/s and peak RSS.

usage: st_encode.py MODEL_DIR DOCS [--max-length 256] [--threads 2] [--batch-size 32] [--limit N]
"""
import argparse, json, resource, time

import torch
from sentence_transformers import SentenceTransformer

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("docs")
ap.add_argument("--max-length", type=int, default=256)
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
# Eager attention: the SDPA path of recent transformers needs torch >= 2.1.1.
m = SentenceTransformer(a.model, device="cpu", model_kwargs={"attn_implementation": "eager"})
m.max_seq_length = a.max_length
start = time.time()
emb = m.encode(texts, batch_size=a.batch_size)
secs = time.time() - start
print(json.dumps({
    "impl": "sentence-transformers", "docs": len(texts), "dim": int(emb.shape[1]), "seconds": secs,
    "docs_per_s": len(texts) / secs, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "threads": a.threads, "max_length": a.max_length, "batch_size": a.batch_size,
}))

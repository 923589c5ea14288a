"""Embeds SciFact with sentence-transformers all-MiniLM-L6-v2 for
`task bench:dense` (until irflow's own encoding stage writes them): the
5,183 documents (title + " " + text, as scripts/bench/st_encode.py) and the
300 test queries, as unit-norm float32 arrays.

usage: encode_scifact.py MODEL_DIR SCIFACT_DIR OUT_DIR [LIMIT_DOCS]
writes OUT_DIR/docs.npy, queries.npy, doc_ids.txt, query_ids.txt
(LIMIT_DOCS: only the first N documents in file order, for tests)
"""
import json, os, sys

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

model_dir, scifact, out = sys.argv[1:4]
limit = int(sys.argv[4]) if len(sys.argv) > 4 else 0
torch.set_num_threads(2)
ids, texts = [], []
with open(os.path.join(scifact, "corpus.jsonl"), encoding="utf-8") as f:
    for line in f:
        if limit and len(ids) == limit:
            break
        d = json.loads(line)
        ids.append(d["_id"])
        texts.append((d.get("title") or "") and d["title"] + " " + d["text"] or d["text"])
qids, queries = [], []
with open(os.path.join(scifact, "queries.tsv"), encoding="utf-8") as f:
    for line in f:
        qid, text = line.rstrip("\n").split("\t", 1)
        qids.append(qid)
        queries.append(text)
# Eager attention: the SDPA path of recent transformers needs torch >= 2.1.1.
m = SentenceTransformer(model_dir, device="cpu", model_kwargs={"attn_implementation": "eager"})
os.makedirs(out, exist_ok=True)
np.save(os.path.join(out, "queries.npy"), m.encode(queries, batch_size=64).astype(np.float32))
np.save(os.path.join(out, "docs.tmp.npy"), m.encode(texts, batch_size=32).astype(np.float32))
for name, lst in (("doc_ids.txt", ids), ("query_ids.txt", qids)):
    with open(os.path.join(out, name), "w") as f:
        f.write("\n".join(lst) + "\n")
os.rename(os.path.join(out, "docs.tmp.npy"), os.path.join(out, "docs.npy"))  # last: marks completion

# sentence-transformers reference: embeddings and cosine scores.
# usage: st_encode.py MODEL_DIR < {"query": str, "docs": [str]}
# prints {"query_emb": [...], "doc_emb": [[...]], "scores": [...]}
import json, sys

import torch
from sentence_transformers import SentenceTransformer, util

d = sys.argv[1]
spec = json.load(sys.stdin)
# Eager attention: the formula irflow computes (SDPA is the same math in another order).
m = SentenceTransformer(d, device="cpu", model_kwargs={"attn_implementation": "eager"})
q = m.encode([spec["query"]], convert_to_tensor=True, batch_size=8)
docs = m.encode(spec["docs"], convert_to_tensor=True, batch_size=8)
print(json.dumps({
    "query_emb": q[0].tolist(),
    "doc_emb": [x.tolist() for x in docs],
    "scores": util.cos_sim(q, docs)[0].tolist(),
}))

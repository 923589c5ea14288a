# sentence-transformers reference: embeddings and cosine scores.
# usage: st_encode.py MODEL_DIR [DTYPE] < {"query": str, "docs": [str]}
# DTYPE is float32 (default) or bfloat16 (weights and activations, as
# torch_dtype=torch.bfloat16 loads them); results are printed as floats.
# prints {"query_emb": [...], "doc_emb": [[...]], "scores": [...]}
import json, sys

import torch
from sentence_transformers import SentenceTransformer, util

d = sys.argv[1]
spec = json.load(sys.stdin)
# Eager attention: the formula irflow computes (SDPA is the same math in another order).
dtype = getattr(torch, sys.argv[2] if len(sys.argv) > 2 else "float32")
m = SentenceTransformer(d, device="cpu", model_kwargs={"attn_implementation": "eager", "torch_dtype": dtype})
q = m.encode([spec["query"]], convert_to_tensor=True, batch_size=8).float()
docs = m.encode(spec["docs"], convert_to_tensor=True, batch_size=8).float()
print(json.dumps({
    "query_emb": q[0].tolist(),
    "doc_emb": [x.tolist() for x in docs],
    "scores": util.cos_sim(q, docs)[0].tolist(),
}))

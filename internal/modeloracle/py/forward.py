# Runs transformers' AutoModel (fp32, eval, eager attention) on each text
# alone (no padding), for several model directories in one process.
# usage: forward.py < {"models": [[dir, max_len], ...], "texts": [...]}
# prints one list per model, in order: [[{"ids": [...], "hidden": [seq*hidden floats]}, ...], ...]
import json, os, sys

import torch
from transformers import AutoModel, AutoTokenizer

spec = json.load(sys.stdin)
res = []
for d, max_len in spec["models"]:
    tok = AutoTokenizer.from_pretrained(d)
    # Eager attention: softmax(QKᵀ/√d)·V as written, the formula irflow
    # computes; the default SDPA kernel is the same math in another order.
    model, info = AutoModel.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager",
                                            output_loading_info=True)
    # Every tensor must be read (a BERT checkpoint may lack the pooler).
    assert all(k.startswith("pooler.") for k in info["missing_keys"]), info["missing_keys"]
    model = model.float().eval()
    out = []
    with torch.no_grad():
        for t in spec["texts"]:
            enc = tok(t, truncation=True, max_length=max_len, return_tensors="pt")
            if model.config.model_type == "distilbert":
                enc.pop("token_type_ids", None)
            h = model(**enc).last_hidden_state[0]
            out.append({"ids": enc["input_ids"][0].tolist(), "hidden": h.flatten().tolist()})
    res.append(out)
print(json.dumps(res))

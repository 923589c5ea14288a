# Runs transformers' AutoModel (fp32, eval, eager attention) on each text
# alone (no padding), for several model directories in one process.
# usage: forward.py < {"models": [[dir, max_len], ...], "texts": [...]}
# prints {dir: [{"ids": [...], "hidden": [seq*hidden floats]}, ...]}
import json, os, sys

import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer

spec = json.load(sys.stdin)
res = {}
for d, max_len in spec["models"]:
    tok = AutoTokenizer.from_pretrained(d)
    # Eager attention: recent transformers refuse SDPA on torch 2.1.0; the math is the same.
    if os.path.exists(os.path.join(d, "model.safetensors")):
        model = AutoModel.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager")
    else:
        # Recent transformers refuse torch.load below torch 2.6; the file is ours.
        cfg = AutoConfig.from_pretrained(d)
        model = AutoModel.from_config(cfg, attn_implementation="eager")
        sd = torch.load(os.path.join(d, "pytorch_model.bin"), map_location="cpu")
        prefix = model.base_model_prefix + "."
        sd = {k[len(prefix):] if k.startswith(prefix) else k: v.float() for k, v in sd.items()}
        missing, _ = model.load_state_dict(sd, strict=False)
        assert all(k.startswith("pooler.") for k in missing), missing
    model = model.float().eval()
    out = []
    with torch.no_grad():
        for t in spec["texts"]:
            enc = tok(t, truncation=True, max_length=max_len, return_tensors="pt")
            if model.config.model_type == "distilbert":
                enc.pop("token_type_ids", None)
            h = model(**enc).last_hidden_state[0]
            out.append({"ids": enc["input_ids"][0].tolist(), "hidden": h.flatten().tolist()})
    res[d] = out
print(json.dumps(res))

# Gradients of transformers encoders (AutoModel, fp32, eval mode so no
# dropout, eager attention) for one padded batch each under the loss
# sum(hidden * R * mask), R[i] = sin(0.01 i) over the flattened
# [batch, seq, hidden] output: padded outputs take no part, as in every
# ranking loss. Parameters without a gradient (the pooler) are left out.
# usage: grads.py < {"models": [[dir, max_len], ...], "texts": [...]}
# prints one {"ids": [[...]], "loss": float, "grads": {name: [flattened floats]}} per model
import json, sys

import torch
from transformers import AutoModel, AutoTokenizer

spec = json.load(sys.stdin)
res = []
for d, max_len in spec["models"]:
    tok = AutoTokenizer.from_pretrained(d)
    model = AutoModel.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager").float().eval()
    enc = tok(spec["texts"], truncation=True, max_length=max_len, padding=True, return_tensors="pt")
    h = model(**enc).last_hidden_state
    r = torch.sin(0.01 * torch.arange(h.numel(), dtype=torch.float64)).to(torch.float32).view_as(h)
    loss = (h * r * enc["attention_mask"][..., None]).sum()
    loss.backward()
    res.append({
        "ids": enc["input_ids"].tolist(),
        "loss": loss.item(),
        "grads": {n: p.grad.flatten().tolist() for n, p in model.named_parameters() if p.grad is not None},
    })
print(json.dumps(res))

# Gradients of transformers encoders (AutoModel, fp32, eval mode so no
# dropout, eager attention) for one padded batch each under the loss
# sum(hidden * R * mask), R[i] = sin(0.01 i) over the flattened
# [batch, seq, hidden] output: padded outputs take no part, as in every
# ranking loss. Parameters without a gradient (the pooler) are left out.
# T5 runs as T5EncoderModel, or with a third element "decoder" as T5Model
# for the decoder's start-token state (its loss has no padding; the
# decoder self-attention's q, k and relative bias get exactly zero
# gradient there: softmax over one key is constant).
# usage: grads.py < {"models": [[dir, max_len(, "decoder")], ...], "texts": [...]}
# prints one {"ids": [[...]], "loss": float, "grads": {name: [flattened floats]}} per model
import json, sys

import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer, T5EncoderModel

spec = json.load(sys.stdin)
res = []
for d, max_len, *mode in spec["models"]:
    tok = AutoTokenizer.from_pretrained(d)
    t5 = AutoConfig.from_pretrained(d).model_type == "t5"
    Model = T5EncoderModel if t5 and not mode else AutoModel
    model = Model.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager").float().eval()
    enc = tok(spec["texts"], truncation=True, max_length=max_len, padding=True, return_tensors="pt")
    if mode:
        start = torch.zeros((enc["input_ids"].shape[0], 1), dtype=torch.long)
        h = model(**enc, decoder_input_ids=start).last_hidden_state
        m = torch.ones(h.shape[:2])
    else:
        h = model(**enc).last_hidden_state
        m = enc["attention_mask"]
    r = torch.sin(0.01 * torch.arange(h.numel(), dtype=torch.float64)).to(torch.float32).view_as(h)
    loss = (h * r * m[..., None]).sum()
    loss.backward()
    res.append({
        "ids": enc["input_ids"].tolist(),
        "loss": loss.item(),
        "grads": {n: p.grad.flatten().tolist() for n, p in model.named_parameters() if p.grad is not None},
    })
print(json.dumps(res))

# Runs transformers' T5 on each text alone (no padding, fp32, eager): the
# encoder's last hidden state (T5EncoderModel) and the decoder's for the
# single start token 0 (T5Model with decoder_input_ids [[0]], as Lightning
# IR's MonoModel calls it).
# usage: t5_forward.py < {"models": [[dir, max_len], ...], "texts": [...]}
# prints one list per model: [{"ids": [...], "encoder": [seq*d_model], "decoder": [d_model]}, ...]
import json, sys

import torch
from transformers import AutoTokenizer, T5EncoderModel, T5Model

spec = json.load(sys.stdin)
res = []
for d, max_len in spec["models"]:
    tok = AutoTokenizer.from_pretrained(d)
    enc_model = T5EncoderModel.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager").eval()
    full = T5Model.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager").eval()
    out = []
    with torch.no_grad():
        for t in spec["texts"]:
            e = tok(t, truncation=True, max_length=max_len, return_tensors="pt")
            h = enc_model(input_ids=e["input_ids"], attention_mask=e["attention_mask"]).last_hidden_state[0]
            start = torch.zeros((1, 1), dtype=torch.long)
            y = full(input_ids=e["input_ids"], attention_mask=e["attention_mask"],
                     decoder_input_ids=start).last_hidden_state[0, 0]
            out.append({"ids": e["input_ids"][0].tolist(), "encoder": h.flatten().tolist(), "decoder": y.tolist()})
    res.append(out)
print(json.dumps(res))

# SPLADE on a transformers masked-LM checkpoint, composed from transformers'
# own logits (Lightning IR 0.0.6 has no MLM head for RoBERTa, so its
# SpladeModel cannot be the oracle there): tokens truncated to the query or
# doc length, a padded batch, AutoModelForMaskedLM logits (eager attention),
# the sparsification, max pooling over attended tokens (padding filled with
# -inf, as Lightning IR's Pooler) and the dot product (in float64).
# usage: mlm_splade.py < {"cases": [{"dir", "query", "docs", "query_length", "doc_length", "sparsification"}]}
# prints one {"scores": [...], "query_emb": [...], "doc_emb": [[...], ...]} per case
import json, sys

import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer



def run(case):
    d = case["dir"]
    tok = AutoTokenizer.from_pretrained(d)
    model, info = AutoModelForMaskedLM.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager",
                                                       output_loading_info=True)
    assert not info["missing_keys"], info["missing_keys"]
    model = model.float().eval()

    def encode(texts, max_len):
        enc = tok(texts, truncation=True, max_length=max_len, padding=True, return_tensors="pt")
        with torch.no_grad():
            x = model(**enc).logits
        x = torch.relu(x)
        if case["sparsification"] in ("relu_log", "relu_2xlog"):
            x = torch.log1p(x)
        if case["sparsification"] == "relu_2xlog":
            x = torch.log1p(x)
        x = x.masked_fill(~enc["attention_mask"].bool()[..., None], float("-inf"))
        return x.amax(1)

    q = encode([case["query"]], case["query_length"])
    docs = encode(case["docs"], case["doc_length"])
    # The dot product in float64 of the fp32 vectors: the reference carries
    # no summation rounding of its own over the vocabulary.
    return {"scores": (docs.double() @ q[0].double()).tolist(), "query_emb": q[0].tolist(), "doc_emb": docs.tolist()}


print(json.dumps([run(c) for c in json.load(sys.stdin)["cases"]]))

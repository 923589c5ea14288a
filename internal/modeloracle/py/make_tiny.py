# Builds tiny random BERT, ELECTRA and DistilBERT models with transformers,
# saved in several weight formats, with MiniLM's tokenizer files.
# usage: make_tiny.py OUT_DIR MINILM_DIR
import os, shutil, sys

import torch
from transformers import (BertConfig, BertForMaskedLM, DistilBertConfig, DistilBertForMaskedLM,
                          ElectraConfig, ElectraModel)

out, minilm = sys.argv[1], sys.argv[2]
torch.manual_seed(1234)
V = 30522
models = {
    "bert": BertForMaskedLM(BertConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                       intermediate_size=37, layer_norm_eps=1e-12, hidden_act="gelu")),
    "electra": ElectraModel(ElectraConfig(vocab_size=V, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                                          num_attention_heads=4, intermediate_size=37, layer_norm_eps=1e-7)),
    "distilbert": DistilBertForMaskedLM(DistilBertConfig(vocab_size=V, dim=32, n_layers=2, n_heads=4, hidden_dim=37)),
}
tok_files = ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
for name, model in models.items():
    # Perturb every parameter so that LayerNorm weights, biases and the like
    # are not at their initial 1/0 values: a loader that skips one shows.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.eval()
    variants = {
        name: dict(dtype=torch.float32, safe=True),
        name + "-bin": dict(dtype=torch.float32, safe=False),
        name + "-fp16": dict(dtype=torch.float16, safe=True),
        name + "-bf16-bin": dict(dtype=torch.bfloat16, safe=False),
    }
    for vname, v in variants.items():
        d = os.path.join(out, vname)
        m = model.to(v["dtype"])
        m.save_pretrained(d, safe_serialization=v["safe"])
        model.to(torch.float32)
        for f in tok_files:
            shutil.copy(os.path.join(minilm, f), d)

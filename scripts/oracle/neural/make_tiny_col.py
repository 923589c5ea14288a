# Builds a tiny random Lightning IR 0.0.6 `col` (multi-vector) model and saves
# it with save_pretrained: a 2-layer, hidden-32 BertModel with all-MiniLM-L6-v2's
# vocabulary (so its tokenizer is real), ColConfig() defaults (embedding_dim
# 128, dot, sum over query tokens of the max over doc tokens), every weight
# perturbed from its initial value, fixed seed: the same bytes on every run.
# embedding_dim stays 128 because Lightning IR 0.0.6 cannot keep another
# value: BiEncoderConfig.to_diff_dict drops embedding_dim, so from_pretrained
# with ColConfig(embedding_dim=16) builds a 128-dim projection, and
# save_pretrained does not write the field (loading falls back to 128).
# usage: make_tiny_col.py OUT_DIR MINILM_DIR [SEED]
# Self-contained on purpose: internal/modeloracle.Built can run it with
# `python -c` (OUT_DIR first, as for make_tiny.py).
import os, sys, tempfile, warnings

warnings.filterwarnings("ignore")
import torch
from transformers import BertConfig, BertModel
from lightning_ir.models import ColConfig, ColModel, ColTokenizer

out, minilm = sys.argv[1], sys.argv[2]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 4711
torch.manual_seed(seed)
backbone = BertModel(BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=37, layer_norm_eps=1e-12, hidden_act="gelu"), add_pooling_layer=False)
with torch.no_grad():
    for p in backbone.parameters():
        p.add_(torch.randn_like(p) * 0.05)
cfg = ColConfig(embedding_dim=128)
with tempfile.TemporaryDirectory() as tmp:
    backbone.save_pretrained(tmp)
    model = ColModel.from_pretrained(tmp, config=cfg).eval()
# The fresh projection is small (std 0.02): make the token vectors large
# enough that scoring errors show well above fp32 noise.
torch.manual_seed(seed + 1)
with torch.no_grad():
    for p in model.projection.parameters():
        p.add_(torch.randn_like(p) * 0.5)
tok = ColTokenizer.from_pretrained(minilm, **cfg.get_tokenizer_kwargs(ColTokenizer))
os.makedirs(out, exist_ok=True)
model.save_pretrained(out)
tok.save_pretrained(out)

# Builds Lightning IR models (v0.0.6) with a head on a backbone checkpoint,
# saves each (config.json + weights + tokenizer), and scores a query against
# documents with Lightning IR itself.
# usage: lir_heads.py < {"cases": [{"out", "backbone", "arch", "config", "query", "docs", "seed",
#                                   "scale", "dtype", "reference"}]}
# prints {out: {"scores": [...], "query_emb": [...], "doc_emb": [[...], ...], "ids": [[...], ...],
#               "reference": {...}}}
# (embeddings: the scored vectors, flattened; none for cross-encoders; COIL's
# token vectors after [CLS] under its scoring mask, with "query_cls" and
# "doc_cls" its projected [CLS] vectors; "ids": a cross-encoder's input ids
# without padding).
# arch: dpr, col, splade, mono, coil, unicoil, mvr: a fresh head (weights
# perturbed by "scale", default 0.5), saved to OUT. On a T5 backbone the
# bi-encoders run T5EncoderModel, as Lightning IR's BACKBONE_MAPPING makes
# it for google/xtr-base-en (its default, T5Model, needs decoder inputs), and
# mono runs T5Model (monoT5 / RankT5).
# "castorini-mono" / "castorini-rank": BACKBONE is a plain T5ForConditionalGeneration
#   directory scored with Lightning IR's own _map_mono_t5_weights /
#   _map_rank_t5_weights (the scorer = rows of the shared embeddings), nothing saved.
# "saved-mono" / "saved-col": BACKBONE is a directory irflow saved, loaded and
#   scored as it is (col on T5 on T5EncoderModel), nothing saved.
# "dtype": run in that dtype (after saving in fp32); "reference": a dtype
# to score the same model in as well, reported under "reference": float64,
# the exact value fp32 results on both sides are measured against, or
# bfloat16, PyTorch's own bf16 error.
import json, os, sys, warnings

warnings.filterwarnings("ignore")
import torch
from transformers import T5EncoderModel
from lightning_ir.models import (CoilConfig, CoilModel, ColConfig, ColModel, ColTokenizer, DprConfig, DprModel,
                                 MonoConfig, MonoModel, MvrConfig, MvrModel, MvrTokenizer, SpladeConfig, SpladeModel,
                                 SpladeTokenizer, UniCoilConfig, UniCoilModel)
from lightning_ir.bi_encoder import BiEncoderTokenizer
from lightning_ir.cross_encoder import CrossEncoderTokenizer
from lightning_ir.models.register_external_models import _map_mono_t5_weights, _map_rank_t5_weights

ARCHS = {
    "dpr": (DprConfig, DprModel, BiEncoderTokenizer),
    "col": (ColConfig, ColModel, ColTokenizer),
    "splade": (SpladeConfig, SpladeModel, SpladeTokenizer),
    "mono": (MonoConfig, MonoModel, CrossEncoderTokenizer),
    "coil": (CoilConfig, CoilModel, BiEncoderTokenizer),
    "unicoil": (UniCoilConfig, UniCoilModel, BiEncoderTokenizer),
    "mvr": (MvrConfig, MvrModel, MvrTokenizer),
}
HEAD_MODULES = ("projection", "linear", "bert_pool", "token_projection", "cls_projection")


def score(model, arch, enc, ndocs):
    res = {}
    with torch.no_grad():
        if arch == "mono":
            o = model(enc["encoding"])
            res["scores"] = o.scores.tolist()
            m = enc["encoding"]["attention_mask"]
            res["ids"] = [ids[mk.bool()].tolist() for ids, mk in zip(enc["encoding"]["input_ids"], m)]
            return res
        o = model(enc["query_encoding"], enc["doc_encoding"], num_docs=[ndocs])
    res["scores"] = o.scores.view(-1).tolist()
    q, d = o.query_embeddings, o.doc_embeddings
    if arch == "coil":  # tokens after [CLS], scored ones only; [CLS] apart
        res["query_cls"] = q.cls_embeddings[0].flatten().tolist()
        res["doc_cls"] = [e.flatten().tolist() for e in d.cls_embeddings]
        res["query_emb"] = q.token_embeddings[0][q.scoring_mask[0, 1:]].flatten().tolist()
        res["doc_emb"] = [e[m[1:]].flatten().tolist() for e, m in zip(d.token_embeddings, d.scoring_mask)]
    elif q.scoring_mask is None:  # single vector
        res["query_emb"] = q.embeddings[0].flatten().tolist()
        res["doc_emb"] = [e.flatten().tolist() for e in d.embeddings]
    else:  # the scored vectors only, to compare with irflow's
        res["query_emb"] = q.embeddings[0][q.scoring_mask[0]].flatten().tolist()
        res["doc_emb"] = [e[m].flatten().tolist() for e, m in zip(d.embeddings, d.scoring_mask)]
    return res


def build(case):
    """The model, its tokenizer and its head kind (mono or a bi-encoder arch)."""
    out, backbone, arch = case["out"], case["backbone"], case["arch"]
    with open(os.path.join(backbone, "config.json")) as f:
        c = json.load(f)
    t5 = (c.get("backbone_model_type") or c["model_type"]) == "t5"
    if arch.startswith("saved-"):
        arch = arch.removeprefix("saved-")
        Config, Model, Tokenizer = ARCHS[arch]
        kw = {"BackboneModel": T5EncoderModel} if t5 and arch != "mono" else {}
        model = Model.from_pretrained(backbone, **kw).eval()
        return model, Tokenizer.from_pretrained(backbone, **model.config.get_tokenizer_kwargs(Tokenizer)), arch
    if arch.startswith("castorini-"):
        strategy = arch.removeprefix("castorini-")
        cfg = MonoConfig(scoring_strategy=strategy, **{"query_length": None, "doc_length": None, **case.get("config", {})})
        model = MonoModel.from_pretrained(backbone, config=cfg).eval()
        model = (_map_mono_t5_weights if strategy == "mono" else _map_rank_t5_weights)(model)
        return model, CrossEncoderTokenizer.from_pretrained(backbone, **cfg.get_tokenizer_kwargs(CrossEncoderTokenizer)), "mono"
    Config, Model, Tokenizer = ARCHS[arch]
    cfg = Config(**case.get("config", {}))
    kw = {"BackboneModel": T5EncoderModel} if t5 and arch != "mono" else {}
    model = Model.from_pretrained(backbone, config=cfg, **kw).eval()
    tok = Tokenizer.from_pretrained(backbone, **cfg.get_tokenizer_kwargs(Tokenizer))
    if len(tok) > model.config.vocab_size:  # marker tokens [QUE]/[DOC] or MVR's [VIEi] were added
        model.resize_token_embeddings(len(tok))
    # Fresh head weights are tiny (std 0.02): make them large enough that a
    # wrong head shows up well above the tolerance.
    # ModernBERT's and T5's _init_weights initialise only their own modules,
    # so on them Lightning IR's fresh head weights are left as torch.empty
    # memory: give them BERT's N(0, 0.02) (biases 0) first.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.split(".")[0] in HEAD_MODULES and "predictions" not in name and "vocab_" not in name:
                if model.config.backbone_model_type in ("modernbert", "t5"):
                    p.normal_(0, 0.02) if p.dim() > 1 else p.zero_()
                p.add_(torch.randn_like(p) * case.get("scale", 0.5))
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return model, tok, arch


def run(case):
    torch.manual_seed(case.get("seed", 0))
    model, tok, arch = build(case)
    query, docs = case["query"], case["docs"]
    if arch == "mono":
        enc = tok.tokenize([query], docs, num_docs=[len(docs)], return_tensors="pt", padding=True, truncation=True)
    else:
        enc = tok.tokenize([query], docs, return_tensors="pt", padding=True, truncation=True)
    res = score(model.to(getattr(torch, case.get("dtype", "float32"))), arch, enc, len(docs))
    if case.get("reference"):
        res["reference"] = score(model.to(getattr(torch, case["reference"])), arch, enc, len(docs))
    return res


print(json.dumps({c["out"]: run(c) for c in json.load(sys.stdin)["cases"]}))

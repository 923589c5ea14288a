# Lightning IR (v0.0.6) on tiny T5 backbones: monoT5 / RankT5 cross-encoders
# (MonoModel on T5Model, ScaleLinear head, Lightning IR's T5 templates) and
# XTR (ColModel on T5EncoderModel, as BACKBONE_MAPPING makes it for
# google/xtr-base-en). Cases:
#   "mono" / "rank": a fresh Lightning IR head (perturbed), saved to OUT;
#   "castorini-mono" / "castorini-rank": the plain T5ForConditionalGeneration
#     directory with Lightning IR's own _map_mono_t5_weights / _map_rank_t5_weights
#     (the scorer = rows of the shared embeddings), nothing saved;
#   "xtr": ColConfig(projection linear_no_bias, l2) on T5EncoderModel, saved to OUT;
#   "saved-mono" / "saved-col": BACKBONE is a directory irflow saved, loaded
#     and scored as it is (col on T5EncoderModel), nothing saved.
# "dtype": "bfloat16" runs the model in bf16 (after saving it in fp32).
# usage: lir_t5.py < {"cases": [{"out", "backbone", "arch", "config", "query", "docs", "seed", "dtype"}]}
# prints {out: {"scores": [...], "ids": [[...]...] (cross-encoders), "query_emb", "doc_emb" (xtr)}}
import json, sys, warnings

warnings.filterwarnings("ignore")
import torch
from transformers import T5EncoderModel
from lightning_ir.models import ColConfig, ColModel, ColTokenizer, MonoConfig, MonoModel
from lightning_ir.cross_encoder import CrossEncoderTokenizer
from lightning_ir.models.register_external_models import _map_mono_t5_weights, _map_rank_t5_weights


def fresh(p):
    # T5's _init_weights initialises only T5's own modules, so Lightning
    # IR's new head weights are left as torch.empty memory: draw them here,
    # large enough that a wrong head shows well above the tolerance.
    p.normal_(0, 0.5)


def score_bi(model, tok, query, docs):
    enc = tok.tokenize([query], docs, return_tensors="pt", padding=True, truncation=True)
    with torch.no_grad():
        o = model(enc["query_encoding"], enc["doc_encoding"], num_docs=[len(docs)])
    q, d = o.query_embeddings, o.doc_embeddings
    return {"scores": o.scores.view(-1).tolist(),
            "query_emb": q.embeddings[0][q.scoring_mask[0]].flatten().tolist(),
            "doc_emb": [e[m].flatten().tolist() for e, m in zip(d.embeddings, d.scoring_mask)]}


def score_cross(model, tok, query, docs):
    enc = tok.tokenize([query], docs, num_docs=[len(docs)], return_tensors="pt", padding=True, truncation=True)
    with torch.no_grad():
        o = model(enc["encoding"])
    m = enc["encoding"]["attention_mask"]
    return {"scores": o.scores.tolist(), "ids": [ids[mk.bool()].tolist() for ids, mk in zip(enc["encoding"]["input_ids"], m)]}


def run(case):
    out, backbone, arch = case["out"], case["backbone"], case["arch"]
    torch.manual_seed(case.get("seed", 0))
    query, docs = case["query"], case["docs"]
    dtype = getattr(torch, case.get("dtype", "float32"))
    if arch == "saved-col":
        model = ColModel.from_pretrained(backbone, BackboneModel=T5EncoderModel).eval()
        tok = ColTokenizer.from_pretrained(backbone, **model.config.get_tokenizer_kwargs(ColTokenizer))
        return score_bi(model, tok, query, docs)
    if arch == "saved-mono":
        model = MonoModel.from_pretrained(backbone).eval()
        tok = CrossEncoderTokenizer.from_pretrained(backbone, **model.config.get_tokenizer_kwargs(CrossEncoderTokenizer))
        return score_cross(model, tok, query, docs)
    if arch == "xtr":
        cfg = ColConfig(projection="linear_no_bias", normalization_strategy="l2", **case.get("config", {}))
        model = ColModel.from_pretrained(backbone, config=cfg, BackboneModel=T5EncoderModel).eval()
        tok = ColTokenizer.from_pretrained(backbone, **cfg.get_tokenizer_kwargs(ColTokenizer))
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.startswith("projection"):
                    fresh(p)
        model.save_pretrained(out)
        tok.save_pretrained(out)
        return score_bi(model.to(dtype), tok, query, docs)
    castorini = arch.startswith("castorini-")
    strategy = arch.removeprefix("castorini-")
    kw = dict(query_length=None, doc_length=None) if castorini else {}
    kw.update(case.get("config", {}))
    cfg = MonoConfig(scoring_strategy=strategy, **kw)
    model = MonoModel.from_pretrained(backbone, config=cfg).eval()
    tok = CrossEncoderTokenizer.from_pretrained(backbone, **cfg.get_tokenizer_kwargs(CrossEncoderTokenizer))
    if castorini:
        model = (_map_mono_t5_weights if strategy == "mono" else _map_rank_t5_weights)(model)
    else:
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.startswith("linear"):
                    fresh(p)
        model.save_pretrained(out)
        tok.save_pretrained(out)
    return score_cross(model.to(dtype), tok, query, docs)


print(json.dumps({c["out"]: run(c) for c in json.load(sys.stdin)["cases"]}))

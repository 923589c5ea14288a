# Builds Lightning IR models (v0.0.6) with a head on a backbone checkpoint,
# saves each (config.json + weights + tokenizer), and scores a query against
# documents with Lightning IR itself.
# usage: lir_heads.py < {"cases": [{"out", "backbone", "arch", "config", "query", "docs", "seed"}]}
# prints {out: {"scores": [...], "query_emb": [...], "doc_emb": [[...], ...]}}
# (embeddings: the scored vectors, flattened; none for cross-encoders; COIL's
# token vectors after [CLS] under its scoring mask, with "query_cls" and
# "doc_cls" its projected [CLS] vectors)
import json, sys, warnings

warnings.filterwarnings("ignore")
import torch
from lightning_ir.models import (CoilConfig, CoilModel, ColConfig, ColModel, ColTokenizer, DprConfig, DprModel,
                                 MonoConfig, MonoModel, MvrConfig, MvrModel, MvrTokenizer, SpladeConfig, SpladeModel,
                                 SpladeTokenizer, UniCoilConfig, UniCoilModel)
from lightning_ir.bi_encoder import BiEncoderTokenizer
from lightning_ir.cross_encoder import CrossEncoderTokenizer


def run(case):
    out, backbone, arch = case["out"], case["backbone"], case["arch"]
    torch.manual_seed(case.get("seed", 0))
    Config, Model, Tokenizer = {
        "dpr": (DprConfig, DprModel, BiEncoderTokenizer),
        "col": (ColConfig, ColModel, ColTokenizer),
        "splade": (SpladeConfig, SpladeModel, SpladeTokenizer),
        "mono": (MonoConfig, MonoModel, CrossEncoderTokenizer),
        "coil": (CoilConfig, CoilModel, BiEncoderTokenizer),
        "unicoil": (UniCoilConfig, UniCoilModel, BiEncoderTokenizer),
        "mvr": (MvrConfig, MvrModel, MvrTokenizer),
    }[arch]
    cfg = Config(**case["config"])
    model = Model.from_pretrained(backbone, config=cfg).eval()
    tok = Tokenizer.from_pretrained(backbone, **cfg.get_tokenizer_kwargs(Tokenizer))
    if len(tok) > model.config.vocab_size:  # marker tokens [QUE]/[DOC] or MVR's [VIEi] were added
        model.resize_token_embeddings(len(tok))
    # Fresh head weights are tiny (std 0.02): make them large enough that a
    # wrong head shows up well above the tolerance.
    # ModernBERT's _init_weights initialises only its own modules, so on it
    # Lightning IR's fresh head weights are left as torch.empty memory:
    # give them BERT's N(0, 0.02) (biases 0) first.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.split(".")[0] in ("projection", "linear", "bert_pool", "token_projection", "cls_projection") and "predictions" not in name and "vocab_" not in name:
                if model.config.backbone_model_type == "modernbert":
                    p.normal_(0, 0.02) if p.dim() > 1 else p.zero_()
                p.add_(torch.randn_like(p) * case.get("scale", 0.5))
    model.save_pretrained(out)
    tok.save_pretrained(out)

    query, docs = case["query"], case["docs"]
    res = {}
    with torch.no_grad():
        if arch == "mono":
            enc = tok.tokenize([query], docs, num_docs=[len(docs)], return_tensors="pt", padding=True, truncation=True)
            o = model(enc["encoding"])
            res["scores"] = o.scores.tolist()
            return res
        enc = tok.tokenize([query], docs, return_tensors="pt", padding=True, truncation=True)
        o = model(enc["query_encoding"], enc["doc_encoding"], num_docs=[len(docs)])
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


print(json.dumps({c["out"]: run(c) for c in json.load(sys.stdin)["cases"]}))

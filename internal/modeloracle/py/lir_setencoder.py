# Builds Lightning IR v0.0.6 Set-Encoders (SetEncoderModel with a fresh,
# randomised linear head on a tiny backbone checkpoint), saves each
# (config.json + weights + tokenizer, with the [INT] template when
# add_extra_token), and scores candidate lists with Lightning IR itself,
# one query per forward as its re-ranking does (num_docs = [len(docs)]).
# Lightning IR draws the stand-ins for missing candidates with
# torch.normal(mean, std); here torch.normal is mean + std * z with z taken
# from the list's "noise" (one row-major block per layer, in call order),
# so that the caller can give the draws irflow makes.
# "dtype": "bfloat16" scores in bf16 (after saving in fp32).
# usage: lir_setencoder.py < {"cases": [{"out", "backbone", "config", "seed", "dtype",
#          "lists": [{"query", "docs", "noise": [[...], ...] | null}]}]}
# prints {out: [[score per doc] per list]}
import json, sys, warnings

warnings.filterwarnings("ignore")
import torch
from lightning_ir.models import SetEncoderConfig, SetEncoderModel, SetEncoderTokenizer

pending = []


def normal(mean, std, *args, **kwargs):
    if not pending:
        raise RuntimeError("torch.normal called more often than noise blocks were given")
    z = torch.tensor(pending.pop(0), dtype=mean.dtype).view(mean.shape)
    return mean + std * z


torch.normal = normal  # set_encoder.py calls torch.normal(mean, std)


def run(case):
    torch.manual_seed(case.get("seed", 0))
    cfg = SetEncoderConfig(**case["config"])
    model = SetEncoderModel.from_pretrained(case["backbone"], config=cfg).eval()
    tok = SetEncoderTokenizer.from_pretrained(case["backbone"], **cfg.get_tokenizer_kwargs(SetEncoderTokenizer))
    if len(tok) > model.config.vocab_size:  # the [INT] token was added
        model.resize_token_embeddings(len(tok))
    # Fresh head weights are tiny (std 0.02): make them large enough that a
    # wrong head shows up well above the tolerance.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.split(".")[0] in ("linear", "bert_pool"):
                p.add_(torch.randn_like(p) * case.get("scale", 0.5))
    model.save_pretrained(case["out"])
    tok.save_pretrained(case["out"])
    model = model.to(getattr(torch, case.get("dtype", "float32")))
    out = []
    with torch.no_grad():
        for lst in case["lists"]:
            pending[:] = lst.get("noise") or []
            enc = tok.tokenize([lst["query"]], lst["docs"], num_docs=[len(lst["docs"])],
                               return_tensors="pt", padding=True, truncation=True)
            out.append(model(enc["encoding"]).scores.view(-1).tolist())
            if pending:
                raise RuntimeError(f"{len(pending)} noise blocks left unused")
    return out


print(json.dumps({c["out"]: run(c) for c in json.load(sys.stdin)["cases"]}))

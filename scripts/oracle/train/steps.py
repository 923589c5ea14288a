# Training-step oracle for models/training + train/optim (irflow issue 9).
#
# mode "train" (default): builds Lightning IR 0.0.6 models on a tiny random
# BERT backbone (the BertForMaskedLM that internal/modeloracle/py/make_tiny.py
# writes: vocab 30522 from all-MiniLM-L6-v2's tokenizer, hidden 32, 2 layers,
# 4 heads, intermediate 37, every weight perturbed by N(0, 0.05)); fresh head
# weights get N(0, scale) added so they matter. Each model is saved
# (save_pretrained, with its tokenizer) to <out>/<name>/init, then trained for
# `steps` steps on fixed batches (the case's "batches" where it has them),
# eval mode (dropout off): listwise loss
# cross_entropy(scores.view(Q, D), 0), clip_grad_norm_(max_norm), then
# torch.optim.AdamW (foreach=False, betas/eps/weight decay as given; biases
# and LayerNorm weights in a weight-decay-0 group) with Lightning IR's
# LinearLRSchedulerWithLinearWarmup(warmup, steps). Weights after each step in
# `dump` go to <out>/<name>/step-<k>.safetensors (named_parameters; the tied
# SPLADE decoder is the word embeddings, listed once). For SPLADE the MLM
# transform's LayerNorm is scaled and the decoder bias shifted (mlm_ln_scale,
# mlm_shift) so that the loss does not saturate.
# mode "check": loads directories irflow saved with Lightning IR and with
# transformers (AutoModel) and scores a batch with Lightning IR.
# usage: steps.py [train|check] < JSON; prints JSON.
import json, os, sys, warnings

warnings.filterwarnings("ignore")
import torch
from safetensors.torch import save_file
from lightning_ir.models import DprConfig, DprModel, MonoConfig, MonoModel, SpladeConfig, SpladeModel, ColConfig, ColModel, ColTokenizer
from lightning_ir.bi_encoder import BiEncoderTokenizer
from lightning_ir.cross_encoder import CrossEncoderTokenizer
from lightning_ir.models.bi_encoders.splade import SpladeTokenizer
from lightning_ir.schedulers.lr_schedulers import LinearLRSchedulerWithLinearWarmup

KINDS = {
    "dpr": (DprConfig, DprModel, BiEncoderTokenizer),
    "col": (ColConfig, ColModel, ColTokenizer),
    "splade": (SpladeConfig, SpladeModel, SpladeTokenizer),
    "mono": (MonoConfig, MonoModel, CrossEncoderTokenizer),
}


def no_decay(name):
    n = name.lower()
    return n.endswith("bias") or "layernorm" in n or "layer_norm" in n


def scores_of(model, tok, arch, queries, docs):
    Q, D = len(queries), len(docs[0])
    flat = [d for ds in docs for d in ds]
    if arch == "mono":
        enc = tok.tokenize(queries, flat, num_docs=[D] * Q, return_tensors="pt", padding=True, truncation=True)
        return model(enc["encoding"]).scores.view(Q, D)
    enc = tok.tokenize(queries, flat, num_docs=[D] * Q, return_tensors="pt", padding=True, truncation=True)
    return model(enc["query_encoding"], enc["doc_encoding"], num_docs=[D] * Q).scores.view(Q, D)


def train(spec):
    res = {}
    torch.set_num_threads(1)
    for case in spec["cases"]:
        name, arch = case["name"], case["arch"]
        Config, Model, Tokenizer = KINDS[arch]
        torch.manual_seed(case.get("seed", 0))
        cfg = Config(**case["config"])
        model = Model.from_pretrained(spec["backbone"], config=cfg)
        tok = Tokenizer.from_pretrained(spec["backbone"], **cfg.get_tokenizer_kwargs(Tokenizer))
        if len(tok) > model.config.vocab_size:
            model.resize_token_embeddings(len(tok))
        with torch.no_grad():
            for n, p in model.named_parameters():
                if n.split(".")[0] in ("projection", "linear", "bert_pool") and "predictions" not in n:
                    p.add_(torch.randn_like(p) * case.get("scale", 0.3))
            if "mlm_shift" in case:
                # A random MLM head's logits make SPLADE scores of ~1e4, where the
                # softmax of the loss saturates and every gradient is 0: scale the
                # transform's LayerNorm and shift the decoder bias so that only a
                # few vocabulary entries stay positive.
                pr = model.projection.predictions
                pr.transform.LayerNorm.weight.mul_(case["mlm_ln_scale"])
                pr.transform.LayerNorm.bias.mul_(case["mlm_ln_scale"])
                pr.bias.add_(case["mlm_shift"])
        d = os.path.join(spec["out"], name)
        model.save_pretrained(os.path.join(d, "init"))
        tok.save_pretrained(os.path.join(d, "init"))
        model.eval()  # dropout off; autograd stays on
        named = list(model.named_parameters())
        groups = [
            {"params": [p for n, p in named if not no_decay(n)], "weight_decay": spec["weight_decay"]},
            {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0},
        ]
        opt = torch.optim.AdamW(groups, lr=spec["lr"], betas=(spec["beta1"], spec["beta2"]), eps=spec["eps"], foreach=False)
        sched = LinearLRSchedulerWithLinearWarmup(opt, num_warmup_steps=case["warmup"], num_training_steps=spec["steps"])
        log = {"loss": [], "norm": [], "lr": [], "names": [n for n, _ in named],
               "tied": bool(arch == "splade" and model.projection.predictions.decoder.weight is model.embeddings.word_embeddings.weight)}
        for step in range(1, spec["steps"] + 1):
            bs = case.get("batches") or spec["batches"]
            b = bs[(step - 1) % len(bs)]
            opt.zero_grad()
            sc = scores_of(model, tok, arch, b["queries"], b["docs"])
            loss = torch.nn.functional.cross_entropy(sc, torch.zeros(sc.shape[0], dtype=torch.long))
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_([p for _, p in named], spec["max_norm"])
            log["loss"].append(loss.item())
            log["norm"].append(norm.item())
            log["lr"].append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
            if step in spec["dump"]:
                save_file({n: p.detach().clone().contiguous() for n, p in named}, os.path.join(d, f"step-{step}.safetensors"))
        res[name] = log
    return res


def check(spec):
    from transformers import BertModel, DistilBertModel, ElectraModel
    from safetensors import safe_open

    res = {}
    for case in spec["cases"]:
        d, arch = case["dir"], case["arch"]
        Config, Model, Tokenizer = KINDS[arch]
        model = Model.from_pretrained(d).eval()
        tok = Tokenizer.from_pretrained(d, **model.config.get_tokenizer_kwargs(Tokenizer))
        with torch.no_grad():
            sc = scores_of(model, tok, arch, case["queries"], case["docs"])
        # transformers alone: the backbone class must find every weight it
        # has (but BertModel's pooler, which Lightning IR never saves either).
        Bare = {"bert": BertModel, "distilbert": DistilBertModel, "electra": ElectraModel}[model.config.backbone_model_type]
        bare, info = Bare.from_pretrained(d, output_loading_info=True)
        info["missing_keys"] = [k for k in info["missing_keys"] if not k.startswith("pooler.")]
        with safe_open(os.path.join(d, "model.safetensors"), "pt") as f:
            same = all(torch.equal(bare.state_dict()[k], f.get_tensor(k)) for k in bare.state_dict() if k in f.keys())
        lir_ok = True
        with safe_open(os.path.join(d, "model.safetensors"), "pt") as f:
            sd = model.state_dict()
            lir_ok = all(torch.equal(sd[k], f.get_tensor(k)) for k in f.keys())
        res[d] = {"scores": sc.view(-1).tolist(), "missing": info["missing_keys"], "bare_equal": same,
                  "lir_equal": lir_ok, "type": type(bare).__name__,
                  "tied": bool(arch == "splade" and model.projection.predictions.decoder.weight is model.embeddings.word_embeddings.weight)}
    return res


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "train"
    spec = json.load(sys.stdin)
    print(json.dumps(train(spec) if mode == "train" else check(spec)))

"""PyTorch side of scripts/gpu-check.sh: the reference encoders irflow is
checked and timed against on the same device, a random BERT-base-sized
model made on the spot (so nothing large travels to the GPU machine), and
the comparison of two vector files.

  oracle.py make-random OUT --tokenizer DIR [--layers 12 --hidden 768 --heads 12 --intermediate 3072]
  oracle.py encode --model DIR --kind splade|mean --docs FILE [--impl transformers|st] [--device cuda]
                   [--dtype float32|bfloat16] [--limit N] [--max-length L] [--batch-size B] [--out X.npy]
  oracle.py compare IRFLOW.npy TORCH.npy [--tol 1e-4]

Kinds mirror irflow's heads: splade = BertForMaskedLM logits -> log1p(relu)
-> max over unmasked tokens (scripts/oracle/neural/retrieve.py's oracle);
mean = the backbone's last hidden state averaged over unmasked tokens, then
L2-normalised (irflow's sentence-transformers preset). Each prints one JSON
line. Works with the transformers of the oracle venv here (4.x, CPU dry
run) and of the GPU machine (5.x).
"""
import argparse
import gzip
import json
import os
import shutil
import sys
import time

import numpy as np
import torch


def read_texts(path, limit):
    texts = []
    op = gzip.open if path.endswith(".gz") else open
    jsonl = path.endswith(".jsonl") or path.endswith(".jsonl.gz")
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            if jsonl:
                d = json.loads(line)
                t = d["title"] + " " + d["text"] if d.get("title") else d["text"]
            else:
                t = line.rstrip("\n").split("\t", 1)[1]
            texts.append(t)
            if limit and len(texts) >= limit:
                break
    return texts


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def load(cls, path, device, dtype):
    # Default attention (SDPA where the installed transformers and torch
    # allow it: what a PyTorch user gets); eager where SDPA is refused.
    try:
        m = cls.from_pretrained(path)
    except (ValueError, ImportError):
        m = cls.from_pretrained(path, attn_implementation="eager")
    return m.to(device=device, dtype=dtype).eval()


def make_random(a):
    from transformers import BertConfig, BertModel

    torch.manual_seed(a.seed)
    tok = json.load(open(os.path.join(a.tokenizer, "tokenizer.json"), encoding="utf-8"))
    vocab = len(tok["model"]["vocab"])
    cfg = BertConfig(vocab_size=vocab, hidden_size=a.hidden, num_hidden_layers=a.layers,
                     num_attention_heads=a.heads, intermediate_size=a.intermediate,
                     max_position_embeddings=512)
    model = BertModel(cfg)
    model.save_pretrained(a.out)
    for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if os.path.exists(os.path.join(a.tokenizer, f)):
            shutil.copy(os.path.join(a.tokenizer, f), a.out)
    n = sum(p.numel() for p in model.parameters())
    print(json.dumps({"model": a.out, "parameters": n, "layers": a.layers, "hidden": a.hidden, "vocab": vocab}))


@torch.no_grad()
def encode(a):
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32 (PyTorch's default, said aloud)
    torch.backends.cudnn.allow_tf32 = False
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[a.dtype]
    texts = read_texts(a.docs, a.limit)
    start = time.time()
    if a.impl == "st":
        from sentence_transformers import SentenceTransformer

        if a.kind != "mean":
            sys.exit("--impl st encodes --kind mean only")
        st = SentenceTransformer(a.model, device=a.device)
        st.max_seq_length = a.max_length
        st.to(dtype)

        def run(ts):
            v = st.encode(ts, batch_size=a.batch_size, convert_to_numpy=False, convert_to_tensor=True,
                          normalize_embeddings=True, show_progress_bar=False)
            return v.float().cpu().numpy()
    else:
        tok = AutoTokenizer.from_pretrained(a.model)
        model = load(AutoModelForMaskedLM if a.kind == "splade" else AutoModel, a.model, a.device, dtype)

        def run(ts):
            lens = [len(x) for x in tok(ts, truncation=True, max_length=a.max_length)["input_ids"]]
            order = sorted(range(len(ts)), key=lambda i: -lens[i])  # little padding per batch
            out = [None] * len(ts)
            for s in range(0, len(order), a.batch_size):
                idx = order[s:s + a.batch_size]
                enc = tok([ts[i] for i in idx], truncation=True, max_length=a.max_length, padding=True,
                          return_tensors="pt").to(a.device)
                mask = enc["attention_mask"]
                if a.kind == "splade":
                    w = torch.log1p(torch.relu(model(**enc).logits))
                    v = w.masked_fill(~mask.bool()[:, :, None], float("-inf")).amax(dim=1)
                else:
                    h = model(**enc).last_hidden_state
                    m = mask[:, :, None].to(h.dtype)
                    v = (h * m).sum(1) / m.sum(1).clamp(min=1)
                    v = torch.nn.functional.normalize(v.float(), dim=-1)
                v = v.float().cpu().numpy()
                for r, i in enumerate(idx):
                    out[i] = v[r]
            return np.stack(out)
    load_s = time.time() - start
    if a.warmup:
        run(texts[:a.warmup])
    sync(a.device)
    start = time.time()
    vecs = run(texts)
    sync(a.device)
    secs = time.time() - start
    if a.out:
        np.save(a.out, vecs.astype(np.float32))
    import transformers

    print(json.dumps({
        "impl": "sentence-transformers" if a.impl == "st" else "transformers", "device": a.device,
        "dtype": a.dtype, "docs": len(texts), "dim": int(vecs.shape[1]), "seconds": secs,
        "docs_per_s": len(texts) / secs, "load_s": load_s, "max_length": a.max_length,
        "batch_size": a.batch_size, "kind": a.kind, "torch": torch.__version__,
        "transformers": transformers.__version__,
    }))


def compare(a):
    x, y = np.load(a.irflow).astype(np.float64), np.load(a.torch).astype(np.float64)
    if x.shape != y.shape:
        print(json.dumps({"ok": False, "error": f"shapes {x.shape} vs {y.shape}"}))
        sys.exit(1)
    # Relative error per row: max |irflow - torch| over the row's largest
    # |torch| (the scale the vector is compared on), worst row reported.
    scale = np.maximum(np.abs(y).max(axis=1), 1e-30)
    rel = np.abs(x - y).max(axis=1) / scale
    res = {"ok": bool(rel.max() <= a.tol), "rows": int(x.shape[0]), "dim": int(x.shape[1]),
           "max_rel": float(rel.max()), "mean_rel": float(rel.mean()),
           "max_abs": float(np.abs(x - y).max()), "tol": a.tol}
    print(json.dumps(res))
    sys.exit(0 if res["ok"] else 1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("make-random")
    r.add_argument("out")
    r.add_argument("--tokenizer", required=True)
    r.add_argument("--layers", type=int, default=12)
    r.add_argument("--hidden", type=int, default=768)
    r.add_argument("--heads", type=int, default=12)
    r.add_argument("--intermediate", type=int, default=3072)
    r.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("encode")
    e.add_argument("--model", required=True)
    e.add_argument("--kind", choices=["splade", "mean"], required=True)
    e.add_argument("--docs", required=True)
    e.add_argument("--impl", choices=["transformers", "st"], default="transformers")
    e.add_argument("--device", default="cuda")
    e.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    e.add_argument("--limit", type=int, default=0)
    e.add_argument("--max-length", type=int, default=256)
    e.add_argument("--batch-size", type=int, default=32)
    e.add_argument("--threads", type=int, default=4)
    e.add_argument("--warmup", type=int, default=64)
    e.add_argument("--out")
    c = sub.add_parser("compare")
    c.add_argument("irflow")
    c.add_argument("torch")
    c.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    {"make-random": make_random, "encode": encode, "compare": compare}[a.cmd](a)


if __name__ == "__main__":
    main()

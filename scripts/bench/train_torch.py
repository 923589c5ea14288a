"""PyTorch side of `task bench:train`: the training step of
scripts/bench/trainbench — forward (tokenisation included) -> InfoNCE
(+ FLOPS for SPLADE) -> backward -> clip_grad_norm_ -> AdamW -> zero_grad —
with transformers 4.57 / PyTorch 2.11 on the same batches, lengths, optimiser
and threads, written as Lightning IR 0.0.6 computes it:

- splade: BertForMaskedLM logits -> log1p(relu) -> max over non-padding
  tokens -> |V| vectors, dot product; FLOPS weights 1e-4 / 1e-4;
- sentence-transformers: BertModel -> mean over non-padding tokens -> L2
  normalise, cosine similarity.

Attention: eager by default, the matmul-softmax-matmul irflow computes, so
both sides run the same kernels; --attention sdpa gives transformers' own
default on torch 2.11 (fused scaled_dot_product_attention), which irflow does
not use yet. Dropout is on (the model's config) unless --dropout is given.
Prints one JSON line with the fields trainbench prints.

The batches follow the rule in scripts/bench/trainbench/batches.go; --digest
prints only their digest (no torch needed), which must equal trainbench's.

usage: train_torch.py -model DIR -head splade|sentence-transformers [-data DIR]
       [-query-length 32] [-doc-length 128] [-batch 8] [-docs-per-query 4]
       [-steps 10] [-warmup-steps 2] [-threads 2] [-lr 2e-5] [-dropout P] [-digest]
(trainbench's flags, so that one argument list serves both; "--" also works)
"""
import argparse, hashlib, json, os, resource, sys, time

NEG_STRIDE_QUERY, NEG_STRIDE_DOC = 7919, 104729


def load_data(d):
    docs, index = [], {}
    with open(os.path.join(d, "corpus.jsonl"), encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            x = json.loads(line)
            index[x["_id"]] = len(docs)
            docs.append(x["title"] + " " + x["text"] if x.get("title") else x["text"])
    rel = {}
    with open(os.path.join(d, "qrels.train.txt"), encoding="utf-8") as f:
        for line in f:
            p = line.split()
            if len(p) == 4 and p[3] != "0":
                rel.setdefault(p[0], []).append(index[p[2]])
    queries = []
    with open(os.path.join(d, "queries.train.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line:
                continue
            qid, text = line.split("\t", 1)
            if rel.get(qid):
                queries.append((text, rel[qid]))
    return queries, docs


def item(queries, docs, k, d):
    k %= len(queries)
    text, rel = queries[k]
    relevant, n = set(rel), len(docs)
    chosen = {rel[0]}
    out = [docs[rel[0]]]
    for j in range(1, d):
        i = (k * NEG_STRIDE_QUERY + j * NEG_STRIDE_DOC) % n
        while i in relevant or i in chosen:
            i = (i + 1) % n
        chosen.add(i)
        out.append(docs[i])
    return text, out


def make_batches(queries, docs, n, q, d):
    return [[item(queries, docs, b * q + i, d) for i in range(q)] for b in range(n)]


def digest(batches):
    h = hashlib.sha256()
    for b in batches:
        for query, ds in b:
            for t in [query] + ds:
                h.update(t.encode("utf-8") + b"\0")
    return h.hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-model", "--model")
    ap.add_argument("-head", "--head", choices=["splade", "sentence-transformers"], default="splade")
    ap.add_argument("-data", "--data", default=os.path.join(os.environ.get("IRFLOW_SHARED_DATA", os.path.join("..", "shared", "data")), "scifact"))
    ap.add_argument("-query-length", "--query-length", type=int, default=32)
    ap.add_argument("-doc-length", "--doc-length", type=int, default=128)
    ap.add_argument("-batch", "--batch", type=int, default=8)
    ap.add_argument("-docs-per-query", "--docs-per-query", type=int, default=4)
    ap.add_argument("-steps", "--steps", type=int, default=10)
    ap.add_argument("-warmup-steps", "--warmup-steps", type=int, default=2)
    ap.add_argument("-threads", "--threads", type=int, default=2)
    ap.add_argument("-lr", "--lr", type=float, default=2e-5)
    ap.add_argument("-dropout", "--dropout", type=float, default=None)
    ap.add_argument("-clip", "--clip", type=float, default=1.0)
    ap.add_argument("-digest", "--digest", action="store_true")
    ap.add_argument("-attention", "--attention", choices=["eager", "sdpa"], default="eager")
    a = ap.parse_args()
    queries, docs = load_data(a.data)
    batches = make_batches(queries, docs, a.warmup_steps + a.steps, a.batch, a.docs_per_query)
    if a.digest:
        print(digest(batches))
        return

    import warnings

    warnings.filterwarnings("ignore")
    import torch
    import torch.nn.functional as F
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()  # MiniLM's unused pooler weights

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    kw = {"attn_implementation": a.attention}
    if a.dropout is not None:
        kw.update(hidden_dropout_prob=a.dropout, attention_probs_dropout_prob=a.dropout)
    tok = AutoTokenizer.from_pretrained(a.model)
    splade = a.head == "splade"
    if splade:
        model = AutoModelForMaskedLM.from_pretrained(a.model, **kw)
    else:
        model = AutoModel.from_pretrained(a.model, add_pooling_layer=False, **kw)
    model.train()

    def embed(texts, max_len):
        enc = tok(texts, truncation=True, max_length=max_len, padding=True, return_tensors="pt")
        mask = enc["attention_mask"].bool()
        if splade:
            w = torch.log1p(torch.relu(model(**enc).logits))
            return w.masked_fill(~mask[:, :, None], float("-inf")).amax(dim=1), enc["input_ids"].shape
        h = model(**enc).last_hidden_state
        m = mask[:, :, None].to(h.dtype)
        e = (h * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
        return F.normalize(e, p=2, dim=-1), enc["input_ids"].shape

    Q, D = a.batch, a.docs_per_query
    target = torch.zeros(Q, dtype=torch.long)

    def no_decay(n):
        n = n.lower()
        return n.endswith("bias") or "layernorm" in n or "layer_norm" in n

    named = list(model.named_parameters())
    opt = torch.optim.AdamW(
        [{"params": [p for n, p in named if not no_decay(n)], "weight_decay": 0.01},
         {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0}], lr=a.lr)
    params = [p for _, p in named]
    shapes = {}

    phases = [0.0, 0.0, 0.0]  # forward (tokenisation and loss included), backward, optimiser

    def step(b, timed=True):
        t0 = time.perf_counter()
        q, qs = embed([x[0] for x in b], a.query_length)
        d, ds = embed([t for x in b for t in x[1]], a.doc_length)
        shapes.setdefault("q", list(qs))
        shapes.setdefault("d", list(ds))
        dv = d.view(Q, D, -1)
        if splade:
            scores = torch.bmm(dv, q.unsqueeze(-1)).squeeze(-1)
        else:
            scores = F.cosine_similarity(q.unsqueeze(1), dv, dim=-1)
        loss = F.cross_entropy(scores, target)
        if splade:
            flops = lambda e: torch.sum(torch.mean(torch.abs(e), dim=0) ** 2)
            loss = loss + 1e-4 * flops(q) + 1e-4 * flops(d)
        v = loss.item()
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(params, a.clip)
        opt.step()
        opt.zero_grad()
        if timed:
            for k, d in enumerate((t1 - t0, t2 - t1, time.perf_counter() - t2)):
                phases[k] += d
        return v

    for i in range(a.warmup_steps):
        step(batches[i], timed=False)
    shapes.clear()
    lat, losses = [], []
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    for k in range(a.steps):
        t0 = time.perf_counter()
        losses.append(step(batches[a.warmup_steps + k]))
        lat.append(time.perf_counter() - t0)
    secs = time.perf_counter() - start
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    srt = sorted(lat)
    print(json.dumps({
        "impl": "pytorch", "model": os.path.basename(os.path.normpath(a.model)), "head": a.head,
        "losses": "InfoNCE+FLOPSRegularization" if splade else "InfoNCE",
        "params": sum(p.numel() for p in params),
        "threads": a.threads, "batch": Q, "docs_per_query": D,
        "query_length": a.query_length, "doc_length": a.doc_length,
        "query_shape": shapes["q"], "doc_shape": shapes["d"],
        "steps": a.steps, "warmup_steps": a.warmup_steps, "seconds": secs,
        "steps_per_s": a.steps / secs, "ms_per_step_mean": 1000 * sum(lat) / len(lat),
        "ms_per_step_p50": 1000 * srt[(len(srt) - 1) * 50 // 100],
        "cpu_ms_per_step": 1000 * cpu / a.steps,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "loss_first": losses[0], "loss_last": losses[-1], "batches_sha256": digest(batches),
        "forward_ms": 1000 * phases[0] / a.steps, "backward_ms": 1000 * phases[1] / a.steps,
        "optimizer_ms": 1000 * phases[2] / a.steps, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    sys.exit(main())

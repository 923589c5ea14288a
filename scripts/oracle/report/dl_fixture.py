"""Writes stages/report/testdata/ranx_dl.json, the oracle values of the
report parity test: ranx_compare.py on the bundled TREC DL 2019 and 2020
top-100 runs of BM25, BM25+RM3, TAS-B and SPLADE++ED against BM25.

    python dl_fixture.py ../../shared/data/msmarco-passage > stages/report/testdata/ranx_dl.json
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ranx_compare  # noqa: E402

import ranx  # noqa: E402
import scipy  # noqa: E402

SYSTEMS = {"BM25": "bm25", "BM25+RM3": "bm25-rm3", "TAS-B": "tasb", "SPLADE++ED": "splade-pp-ed"}
METRICS = {"nDCG@10": "ndcg@10", "AP(rel=2)": "map-l2", "RR(rel=2)@10": "mrr@10-l2", "R(rel=2)@1000": "recall@1000-l2"}
N_PERMUTATIONS = 20000


def main():
    data = sys.argv[1]
    out = {
        "made_by": "scripts/oracle/report/dl_fixture.py",
        "versions": {"ranx": "0.3.21", "scipy": scipy.__version__, "python": sys.version.split()[0]},
        "baseline": "BM25", "n_permutations": N_PERMUTATIONS, "seed": 42, "pr_rel": 2,
        "systems": SYSTEMS, "metrics": METRICS, "groups": {},
    }
    for year in ("dl19", "dl20"):
        job = {
            "qrels": os.path.join(data, f"qrels.{year}.txt"),
            "runs": {n: os.path.join(data, "rerank", "runs", f"{f}.{year}.top100.trec") for n, f in SYSTEMS.items()},
            "baseline": "BM25", "metrics": METRICS, "n_permutations": N_PERMUTATIONS, "seed": 42, "pr_rel": 2,
        }
        out["groups"][year.upper()] = ranx_compare.one(job)
    json.dump(out, sys.stdout, indent=1)
    print()


main()

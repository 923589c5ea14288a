"""Reference re-ranking with Lightning IR 0.0.6's own cross-encoder: load a
model directory with CrossEncoderModule (as irflow's fit saves a `mono`
model, or any Lightning IR cross-encoder), score each query's top-`depth`
candidates of a TREC run with module.score, write the re-ranked run.

  rerank.py --model DIR --run RUN --queries queries.tsv --docs corpus.jsonl
            [--depth 100] [--threads 1] --out run.trec

Ranking: score descending, exact ties by the candidate's rank in the input
run (irflow's re_rank rule). Candidates below depth are dropped.
"""
import argparse
import json
import os
import sys
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

import runio  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--docs", required=True)
    ap.add_argument("--depth", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    from lightning_ir import CrossEncoderModule

    module = CrossEncoderModule(model_name_or_path=a.model).eval()
    docs = dict(runio.read_docs(a.docs))
    queries = dict(runio.read_queries(a.queries))
    cands = defaultdict(list)
    with open(a.run) as f:
        for line in f:
            qid, _, did, rank = line.split()[:4]
            cands[qid].append((int(rank), did))
    t0 = time.time()
    rows, pairs = [], 0
    for qid in sorted(cands, key=lambda q: list(queries).index(q) if q in queries else 1 << 30):
        top = [d for _, d in sorted(cands[qid])[: a.depth]]
        scores = module.score(queries[qid], [docs[d] for d in top]).scores.float().flatten().tolist()
        pairs += len(top)
        order = sorted(range(len(top)), key=lambda i: (-scores[i], i))
        rows.append((qid, [(top[i], scores[i]) for i in order]))
    runio.write_run(a.out, rows, "oracle-lir-rerank")
    info = {"model": os.path.abspath(a.model), "config": json.load(open(os.path.join(a.model, "config.json"))).get("model_type"),
            "queries": len(rows), "pairs": pairs, "seconds": time.time() - t0, "threads": a.threads,
            "torch": torch.__version__, "run": a.out}
    with open(a.out + ".meta.json", "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info))


if __name__ == "__main__":
    main()

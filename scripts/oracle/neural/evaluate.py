"""Effectiveness of TREC runs with ir-measures (pytrec_eval backend), and
agreement between two runs of the same queries.

  evaluate.py QRELS RUN [RUN ...]          nDCG@10, R@100, R@1000, RR@10 per run (JSON lines)
  evaluate.py --compare RUN_A RUN_B [--depth N]
      per query: same documents in the same order to depth N? largest |score
      difference| over documents in both; prints a JSON summary.

Runs in the light oracle venv (.venv: ir-measures 0.4.3, pytrec-eval-terrier).
"""
import argparse
import json
from collections import defaultdict

MEASURES = ["nDCG@10", "R@100", "R@1000", "RR@10"]


def read_run(path):
    run = defaultdict(list)
    with open(path) as f:
        for line in f:
            qid, _, did, rank, score = line.split()[:5]
            run[qid].append((int(rank), did, float(score)))
    return {q: sorted(h) for q, h in run.items()}


def evaluate(qrels_path, run_path):
    import ir_measures

    qrels = list(ir_measures.read_trec_qrels(qrels_path))
    run = list(ir_measures.read_trec_run(run_path))
    agg = ir_measures.calc_aggregate([ir_measures.parse_measure(m) for m in MEASURES], qrels, run)
    out = {"run": run_path, "queries": len({r.query_id for r in run})}
    out.update({m: round(float(agg[ir_measures.parse_measure(m)]), 6) for m in MEASURES})
    return out


def compare(a_path, b_path, depth):
    a, b = read_run(a_path), read_run(b_path)
    same_order = same_set = 0
    worst = 0.0
    first_diff = []
    for q in sorted(set(a) & set(b)):
        da = [d for _, d, _ in a[q][:depth]]
        db = [d for _, d, _ in b[q][:depth]]
        same_order += da == db
        same_set += set(da) == set(db)
        if da != db and len(first_diff) < 5:
            i = next((i for i, (x, y) in enumerate(zip(da, db)) if x != y), min(len(da), len(db)))
            first_diff.append({"query": q, "rank": i + 1})
        sb = {d: s for _, d, s in b[q]}
        for _, d, s in a[q]:
            if d in sb:
                worst = max(worst, abs(s - sb[d]))
    common = len(set(a) & set(b))
    return {"a": a_path, "b": b_path, "depth": depth, "queries": common, "same_order": same_order,
            "same_set": same_set, "max_abs_score_diff": worst, "first_differences": first_diff}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", action="store_true")
    ap.add_argument("--depth", type=int, default=1000)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    if a.compare:
        print(json.dumps(compare(a.files[0], a.files[1], a.depth)))
        return
    for run in a.files[1:]:
        print(json.dumps(evaluate(a.files[0], run)))


if __name__ == "__main__":
    main()

"""Report oracle: means, per-query values and p-values of ranx and scipy for
stages/report's parity test.

    python ranx_compare.py jobs.json > out.json

jobs.json is a list of jobs
    {"qrels": path, "runs": {"name": path, ...}, "baseline": "name",
     "metrics": {"irflow measure": "ranx metric", ...},  e.g. {"AP(rel=2)": "map-l2"}
     "n_permutations": 20000, "seed": 42}

and the output a list with, per job,
    {"means":    {system: {measure: mean}},              ranx.compare's means
     "per_query": {system: {measure: {qid: value}}},      ranx's per-query scores
     "student":  {system: {measure: p}},                  ranx, stat_test="student" (scipy ttest_rel)
     "fisher":   {system: {measure: p}},                  ranx, stat_test="fisher", n_permutations, seed
     "wilcoxon": {system: {measure: p}},                  scipy.stats.wilcoxon (defaults) on ranx's per-query values
     "pr":       {system: [11 values]}}                   pytrec_eval's iprec_at_recall_0.00 … _1.00 (relevance_level
                                                          job["pr_rel"]), averaged over the qrels' queries
p-values are of each system against the baseline.

What this script does around ranx, and why:
  - ranx orders tied scores in an unspecified way (numba's argsort); irflow
    and trec_eval rank ties by docid descending. Every measure depends on the
    ranking only, so each query's hits are put in trec_eval order (score
    descending as a C float, then docid descending) and handed to ranx with
    the score len(hits) - position: the same ranking without ties.
  - make_comparable=True: a judged query missing from a run is an empty
    ranking scoring 0 (trec_eval -c), as stages/report's complete = true.
"""

import json
import sys

try:
    import numpy as np
    import pytrec_eval
    from ranx import Qrels, Run, compare
    from scipy import stats
except ImportError as e:
    sys.exit(f"ranx_compare.py: {e}: this venv lacks ranx or scipy (python/requirements.txt); run ./task setup:python")


def read_run(path):
    hits = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) != 6:
                continue
            hits.setdefault(p[0], []).append((p[2], float(p[4])))
    out = {}
    for q, hs in hits.items():
        hs.sort(key=lambda h: (np.float32(h[1]), h[0]), reverse=True)
        out[q] = {d: float(len(hs) - i) for i, (d, _) in enumerate(hs)}
    return out


def main():
    json.dump([one(job) for job in json.load(open(sys.argv[1]))], sys.stdout, indent=1)
    print()


def one(job):
    qrels = Qrels.from_file(job["qrels"], kind="trec")
    names = list(job["runs"])
    runs = []
    for n in names:
        r = Run(read_run(job["runs"][n]))
        r.name = n
        runs.append(r)
    metrics = job["metrics"]  # irflow name -> ranx name
    ranx_names = list(metrics.values())
    back = {v: k for k, v in metrics.items()}
    base = job["baseline"]
    out = {"means": {}, "per_query": {}, "student": {}, "fisher": {}, "wilcoxon": {}}
    for test in ("student", "fisher"):
        rep = compare(qrels, runs, ranx_names, stat_test=test, n_permutations=job.get("n_permutations", 1000),
                      random_seed=job.get("seed", 42), make_comparable=True, rounding_digits=17)
        for n in names:
            if n == base:
                continue
            out[test][n] = {back[m]: float(v["p_value"]) for m, v in rep.comparisons[(base, n)].items()}
    for r, n in zip(runs, names):
        out["means"][n] = {back[m]: float(r.mean_scores[m]) for m in ranx_names}
        out["per_query"][n] = {back[m]: {q: float(v) for q, v in r.scores[m].items()} for m in ranx_names}
    qids = sorted(out["per_query"][base][next(iter(metrics))])
    for n in names:
        if n == base:
            continue
        out["wilcoxon"][n] = {}
        for m in metrics:
            a = [out["per_query"][n][m][q] for q in qids]
            b = [out["per_query"][base][m][q] for q in qids]
            out["wilcoxon"][n][m] = float(stats.wilcoxon(a, b).pvalue)
    qrels_dict = {}
    with open(job["qrels"]) as f:
        for line in f:
            q, _, d, rel = line.split()
            qrels_dict.setdefault(q, {})[d] = int(rel)
    levels = [f"iprec_at_recall_{x / 10:.2f}" for x in range(11)]
    ev = pytrec_eval.RelevanceEvaluator(qrels_dict, {"iprec_at_recall"}, relevance_level=job.get("pr_rel", 1))
    out["pr"] = {}
    for n in names:
        res = ev.evaluate(read_run(job["runs"][n]))
        out["pr"][n] = [sum(res[q][l] if q in res else 0.0 for q in qrels_dict) / len(qrels_dict) for l in levels]
    return out


if __name__ == "__main__":
    main()

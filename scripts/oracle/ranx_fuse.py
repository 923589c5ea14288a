"""Fusion oracle: fuses TREC runs with ranx (ranx.fuse) for ir/fusion's parity test.

    python ranx_fuse.py jobs.json > fused.json

jobs.json is a list of jobs
    {"runs": [path, ...], "method": "wsum", "norm": "min-max" | null,
     "params": {"weights": [...], "k": 60}, "depth": 100, "drop": [[qid, ...], ...]}
and the output is, per job, {qid: {docid: fused score}}.

What this script does around ranx, and why:
  - ranx orders a run's tied documents in an unspecified way (numba's
    quicksort argsort); irflow ranks them the trec_eval way. Rank-based methods
    depend on that order, so each query's hits are put in trec_eval order (score
    descending, then docid descending) and handed to ranx in that order, which
    ranx keeps: its normalisations and fusions iterate each query's results in
    insertion order and never re-sort their inputs.
  - depth keeps each run's top hits in that order (ranx has no depth).
  - drop[i] removes queries from run i. ranx.fuse needs the same queries in
    every run, so a run lacking a query gets an empty result list for it, which
    is what ranx's own Run.make_comparable does for missing queries.
  - ranx's zmuv normalisation breaks on an empty result list (numpy mean of
    nothing raises inside a numba prange loop; the error is swallowed and other
    queries of the run come back empty). So when a run has an empty list, each
    run is normalised by ranx.normalize without its empty lists, which are then
    put back, and fused with norm=None: the same ranx arithmetic, run apart.
"""

import json
import sys

try:
    import numpy as np
    from numba.typed import List as TypedList
    from ranx import Run, fuse, normalize
    from ranx.data_structures.common import create_bulk
except ImportError as e:
    sys.exit(f"ranx_fuse.py: {e}: this venv lacks ranx (python/requirements.txt); run ./task setup:python")


def read_run(path):
    run = {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            q, _, d, _, s, _ = line.split()
            assert d not in run.setdefault(q, {}), (path, q, d)
            run[q][d] = float(s)
    return run


def trec_order(docs):
    return sorted(docs.items(), key=lambda x: (x[1], x[0]), reverse=True)


def to_ranx(ranked, qids):
    """A ranx Run holding each query's (docid, score) pairs in the given order.

    ranx's Run.from_dict builds its dicts the same way (create_bulk, a cached
    numba function) and then sorts them; this skips the sort.
    """
    qids = sorted(qids)
    docs = [ranked.get(q, []) for q in qids]
    width = max((len(d) for hits in docs for d, _ in hits), default=1)
    run = Run()
    run.run = create_bulk(
        TypedList(qids),
        TypedList([np.array([d for d, _ in hits], dtype=f"<U{width}") for hits in docs]),
        TypedList([np.array([s for _, s in hits], dtype=float) for hits in docs]),
    )
    return run


def normalize_nonempty(run, norm):
    full = {q: list(run.run[q].items()) for q in run.keys()}
    normalized = normalize(to_ranx(full, [q for q, r in full.items() if r]), norm)
    return to_ranx({q: list(normalized.run[q].items()) for q in normalized.keys()}, full.keys())


def fuse_job(runs, norm, method, params):
    if norm not in (None, "borda") and any(len(r.run[q]) == 0 for r in runs for q in r.keys()):
        runs, norm = [normalize_nonempty(r, norm) for r in runs], None
    return fuse(runs, norm=norm, method=method, params=params)


def ranx_runs(job):
    raw = [read_run(p) for p in job["runs"]]
    for i, qids in enumerate(job.get("drop") or []):
        for q in qids or []:
            raw[i].pop(q, None)
    depth = job.get("depth") or None
    ranked = [{q: trec_order(docs)[:depth] for q, docs in r.items()} for r in raw]
    qids = set().union(*[r.keys() for r in ranked])
    return [to_ranx(r, qids) for r in ranked]


def main():
    out = []
    built = {}  # ranx runs by (runs, drop, depth): ranx.fuse does not modify its inputs
    for job in json.load(open(sys.argv[1])):
        key = json.dumps([job["runs"], job.get("drop"), job.get("depth")])
        if key not in built:
            built[key] = ranx_runs(job)
        fused = fuse_job(built[key], job["norm"], job["method"], job.get("params") or {})
        out.append({q: dict(fused[q]) for q in fused.keys()})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()

"""pyseismic-lsr on a prepared corpus: the anchor of `task bench:seismic`.

Builds a SeismicIndex from vectors.jsonl (integer weights, as irflow's
index reads them) with the given parameters and, at each operating point
(query_cut:heap_factor), searches every query twice on one thread (the
first pass warms caches) and prints one JSON line per point: per-query
latency of the second pass (mean, p50, p99 in ms, and the mean thread CPU
time, each query one
SeismicIndex.search call, the numpy arrays made beforehand), the mean of a
batch_search of all queries with num_threads=1, and recall@k against the
exact top k the Go driver wrote (exact.tsv: qid<TAB>docid, best first).
"""
import argparse
import json
import time

import numpy as np
from seismic import SeismicIndex, get_seismic_string


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--exact", required=True)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--points", required=True, help="query_cut:heap_factor,...")
    ap.add_argument("--n-postings", type=int, default=3500)
    ap.add_argument("--centroid-fraction", type=float, default=0.1)
    ap.add_argument("--min-cluster-size", type=int, default=2)
    ap.add_argument("--summary-energy", type=float, default=0.4)
    ap.add_argument("--doc-cut", type=int, default=15)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()

    t0 = time.perf_counter()
    index = SeismicIndex.build(a.docs, n_postings=a.n_postings, centroid_fraction=a.centroid_fraction,
                               min_cluster_size=a.min_cluster_size, summary_energy=a.summary_energy,
                               doc_cut=a.doc_cut, load_content=False, num_threads=a.threads)
    print(json.dumps({"build_s": time.perf_counter() - t0, "docs": index.len, "nnz": index.nnz}), flush=True)

    st = get_seismic_string()
    ids, comps, vals = [], [], []
    with open(a.queries) as f:
        for line in f:
            if not line.strip():
                continue
            q = json.loads(line)
            ids.append(str(q.get("id", q.get("qid"))))
            comps.append(np.array(list(q["vector"].keys()), dtype=st))
            vals.append(np.array(list(q["vector"].values()), dtype=np.float32))
    exact = {}
    with open(a.exact) as f:
        for line in f:
            qid, doc = line.rstrip("\n").split("\t")
            exact.setdefault(qid, []).append(doc)
    qids = np.array(ids, dtype=st)

    for point in a.points.split(","):
        cut, hf = point.split(":")
        cut, hf = int(cut), float(hf)
        for rep in range(2):
            lat, cpu, results = [], [], []
            for i in range(len(ids)):
                t, c = time.perf_counter(), time.thread_time()
                r = index.search(ids[i], comps[i], vals[i], a.k, cut, hf, sorted=True)
                lat.append((time.perf_counter() - t) * 1e3)
                cpu.append((time.thread_time() - c) * 1e3)
                results.append(r)
        t = time.perf_counter()
        index.batch_search(qids, comps, vals, a.k, cut, hf, sorted=True, num_threads=1)
        batch_ms = (time.perf_counter() - t) * 1e3 / len(ids)
        recall = 0.0
        for i, r in enumerate(results):
            want = exact.get(ids[i], [])
            got = {doc for (_, _, doc) in r}
            recall += len([d for d in want if d in got]) / max(1, len(want))
        recall /= len(ids)
        s = sorted(lat)
        n = len(s)
        print(json.dumps({"query_cut": cut, "heap_factor": hf, "recall": recall, "mean_ms": sum(s) / n,
                          "p50_ms": s[(n - 1) * 50 // 100], "p99_ms": s[(n - 1) * 99 // 100], "cpu_mean_ms": sum(cpu) / n,
                          "batch_mean_ms": batch_ms}), flush=True)


if __name__ == "__main__":
    main()

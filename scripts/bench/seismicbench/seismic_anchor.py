"""pyseismic-lsr on a prepared corpus: the anchor of `task bench:seismic`.

Builds a SeismicIndex from vectors.jsonl (integer weights, as irflow's
index reads them) with the given parameters, or, with --index PATH, loads
PATH.index.seismic when PATH.params.json says it was built from the same
file with the same parameters (else builds it and saves both). It prints
one JSON line about the build, then serves the Go driver, which
interleaves these passes with irflow's so that both see the same load;
one command a line on stdin, one JSON line out each:

  search CUT:HF   every query twice on one thread (the first pass warms
                  caches), each one SeismicIndex.search call with the
                  numpy arrays made beforehand: the second pass's mean,
                  p50 and p99 latency and mean thread CPU time in ms, and
                  recall@k against the exact top k the driver wrote
                  (exact.tsv: qid<TAB>docid, best first)
  batch CUT:HF    the mean time of one batch_search of every query with
                  num_threads=1

It exits at the end of stdin.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
from seismic import SeismicIndex, get_seismic_string


def build_or_load(a):
    params = {"docs": os.path.abspath(a.docs), "docs_size": os.path.getsize(a.docs),
              "docs_mtime_ns": os.stat(a.docs).st_mtime_ns, "n_postings": a.n_postings,
              "centroid_fraction": a.centroid_fraction, "min_cluster_size": a.min_cluster_size,
              "summary_energy": a.summary_energy, "doc_cut": a.doc_cut}
    if a.index:
        saved, ppath = a.index + ".index.seismic", a.index + ".params.json"
        try:
            with open(ppath) as f:
                same = json.load(f) == params
        except FileNotFoundError:
            same = False
        if same and os.path.exists(saved):
            t0 = time.perf_counter()
            index = SeismicIndex.load(saved)
            return index, {"load_s": time.perf_counter() - t0}
    t0 = time.perf_counter()
    index = SeismicIndex.build(a.docs, n_postings=a.n_postings, centroid_fraction=a.centroid_fraction,
                               min_cluster_size=a.min_cluster_size, summary_energy=a.summary_energy,
                               doc_cut=a.doc_cut, load_content=False, num_threads=a.threads)
    info = {"build_s": time.perf_counter() - t0}
    if a.index:
        if os.path.exists(ppath):
            os.remove(ppath)  # never a params file beside another index
        index.save(a.index)
        with open(ppath, "w") as f:
            json.dump(params, f)
    return index, info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--exact", required=True)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--n-postings", type=int, default=3500)
    ap.add_argument("--centroid-fraction", type=float, default=0.1)
    ap.add_argument("--min-cluster-size", type=int, default=2)
    ap.add_argument("--summary-energy", type=float, default=0.4)
    ap.add_argument("--doc-cut", type=int, default=15)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--index", default="", help="save/load the index as PATH.index.seismic")
    a = ap.parse_args()

    index, info = build_or_load(a)
    info.update({"docs": index.len, "nnz": index.nnz})
    print(json.dumps(info), flush=True)

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

    for cmd in sys.stdin:
        what, point = cmd.split()
        cut, hf = point.split(":")
        cut, hf = int(cut), float(hf)
        if what == "batch":
            t = time.perf_counter()
            index.batch_search(qids, comps, vals, a.k, cut, hf, sorted=True, num_threads=1)
            print(json.dumps({"batch_mean_ms": (time.perf_counter() - t) * 1e3 / len(ids)}), flush=True)
            continue
        for rep in range(2):
            lat, cpu, results = [], [], []
            for i in range(len(ids)):
                t, c = time.perf_counter(), time.thread_time()
                r = index.search(ids[i], comps[i], vals[i], a.k, cut, hf, sorted=True)
                lat.append((time.perf_counter() - t) * 1e3)
                cpu.append((time.thread_time() - c) * 1e3)
                results.append(r)
        recall = 0.0
        for i, r in enumerate(results):
            want = exact.get(ids[i], [])
            got = {doc for (_, _, doc) in r}
            recall += len([d for d in want if d in got]) / max(1, len(want))
        recall /= len(ids)
        s = sorted(lat)
        n = len(s)
        print(json.dumps({"query_cut": cut, "heap_factor": hf, "recall": recall, "mean_ms": sum(s) / n,
                          "p50_ms": s[(n - 1) * 50 // 100], "p99_ms": s[(n - 1) * 99 // 100],
                          "cpu_mean_ms": sum(cpu) / n}), flush=True)


if __name__ == "__main__":
    main()

"""faiss-cpu side of scripts/bench/annbench: trains and searches faiss's
IVFFlat, IVFPQ and OPQ+IVFPQ with the parameters irflow got (n_lists, m,
8-bit codes, 25 k-means iterations, the same number of training vectors), the
same threads (faiss.omp_set_num_threads), and reports build time, QPS, CPU
time and recall@k against the exact top-k irflow's exact search wrote.

usage: faiss_ann.py DOCS.npy QUERIES.npy GT.i64 K NLISTS M NPROBES TRAIN THREADS METRIC [METHODS]
(METHODS: comma-separated among ivf, ivfpq, opq+ivfpq; default all)
prints one JSON line per (method, n_probe)
"""
import json, sys, time

import faiss
import numpy as np

docs_p, q_p, gt_p = sys.argv[1:4]
k, nlists, m = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
nprobes = [int(p) for p in sys.argv[7].split(",")]
train, threads, metric_name = int(sys.argv[8]), int(sys.argv[9]), sys.argv[10]
methods = sys.argv[11].split(",") if len(sys.argv) > 11 else ["ivf", "ivfpq", "opq+ivfpq"]
metric = faiss.METRIC_L2 if metric_name == "l2" else faiss.METRIC_INNER_PRODUCT
faiss.omp_set_num_threads(threads)
x = np.ascontiguousarray(np.load(docs_p), dtype=np.float32)
q = np.ascontiguousarray(np.load(q_p), dtype=np.float32)
n, d = x.shape
gt = np.fromfile(gt_p, dtype="<i8").reshape(len(q), k)
rng = np.random.default_rng(1)
sample = x if train <= 0 or train >= n else x[np.sort(rng.choice(n, train, replace=False))]

for name, factory in (("ivf", f"IVF{nlists},Flat"), ("ivfpq", f"IVF{nlists},PQ{m}x8"), ("opq+ivfpq", f"OPQ{m},IVF{nlists},PQ{m}x8")):
    if name not in methods:
        continue
    index = faiss.index_factory(d, factory, metric)
    ivf = faiss.extract_index_ivf(index)
    ivf.cp.niter = 25
    ivf.cp.max_points_per_centroid = 1 << 30  # train on the whole sample, as irflow
    t0, c0 = time.perf_counter(), time.process_time()
    index.train(sample)
    index.add(x)
    build, build_cpu = time.perf_counter() - t0, time.process_time() - c0
    for p in nprobes:
        ivf.nprobe = p
        index.search(q[: min(len(q), 50)], k)  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        _, ids = index.search(q, k)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        rec = np.mean([len(set(ids[i]) & set(gt[i])) / k for i in range(len(q))])
        print(json.dumps({"method": name, "nprobe": p, "qps": len(q) / secs, "cpu_ms": 1000 * cpu / len(q),
                          "recall": float(rec), "build_s": build, "build_cpu_s": build_cpu, "faiss": faiss.__version__}), flush=True)

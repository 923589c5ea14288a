# fast-plaid side of scripts/bench/plaidbench: builds a fast-plaid index on
# the token vectors plaidbench wrote (docs.npy rows, doclens.npy per
# document, queries.npy nq × 8 × dim) on the CPU, then searches at each
# operating point n_ivf_probe:n_full_scores twice (the first pass warms
# caches) and prints JSON: the centroid count, build time, and per point the
# second pass's wall and process CPU seconds and every query's hits
# (document numbers). --centroids N fixes the centroid count (ColBERT's
# rule otherwise). Run by plaidbench with .cache/venv-torch's python and
# PYTHONPATH=.cache/fastplaid-site (setup-fastplaid.sh).
import argparse, json, os, sys, time

import numpy as np
import torch
from fast_plaid import search as fps

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--nbits", type=int, default=2)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--k", type=int, default=10)
ap.add_argument("--points", default="1:64")
ap.add_argument("--centroids", type=int, default=0, help="centroid count; 0 = fast-plaid's own rule")
a = ap.parse_args()
if a.centroids > 0:
    # create() has no centroid-count argument; its compute_kmeans has
    # num_partitions, so the module's reference is wrapped to pass it.
    import functools
    fpm = sys.modules["fast_plaid.search.fast_plaid"]
    fpm.compute_kmeans = functools.partial(fpm.compute_kmeans, num_partitions=a.centroids)
torch.set_num_threads(a.threads)
docs = np.load(os.path.join(a.dir, "docs.npy"))
lens = np.load(os.path.join(a.dir, "doclens.npy"))
queries = torch.from_numpy(np.load(os.path.join(a.dir, "queries.npy")))
offs = np.concatenate([[0], np.cumsum(lens)])
emb = [torch.from_numpy(docs[offs[i]:offs[i + 1]]) for i in range(len(lens))]
index_dir = os.path.join(a.dir, "fast-plaid")
ix = fps.FastPlaid(index=index_dir, device="cpu")
c0, t0 = time.process_time(), time.perf_counter()
ix.create(documents_embeddings=emb, kmeans_niters=4, nbits=a.nbits, seed=42)
build_wall, build_cpu = time.perf_counter() - t0, time.process_time() - c0
centroids = int(np.load(os.path.join(index_dir, "centroids.npy")).shape[0])
out = {"centroids": centroids, "build_wall": build_wall, "build_cpu": build_cpu, "points": []}
for p in a.points.split(","):
    probe, full = (int(x) for x in p.split(":"))
    for _ in range(2):
        c0, t0 = time.process_time(), time.perf_counter()
        res = ix.search(queries_embeddings=queries, top_k=a.k, n_ivf_probe=probe, n_full_scores=full,
                        show_progress=False, n_processes=1)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out["points"].append({"wall": wall, "cpu": cpu, "hits": [[int(d) for d, _ in r] for r in res]})
json.dump(out, sys.stdout)

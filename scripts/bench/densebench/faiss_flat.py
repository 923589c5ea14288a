"""faiss-cpu side of `task bench:dense` (driven by scripts/bench/densebench).

Loads DOCS.npy and QUERIES.npy (float32, 2-D), builds an exact IndexFlatIP
(add + write_index, timed), prints one JSON line, then answers commands on
stdin, one per line, with one JSON line each:

    search K THREADS IDS_OUT   time index.search over all queries (wall and
                               process CPU time) with
                               faiss.omp_set_num_threads(THREADS); write the
                               result ids (int64, nq×K) to IDS_OUT.npy
    quit

usage: faiss_flat.py DOCS.npy QUERIES.npy INDEX_FILE
"""
import json, os, sys, time

import faiss
import numpy as np

docs = np.load(sys.argv[1], mmap_mode="r")
queries = np.ascontiguousarray(np.load(sys.argv[2]), dtype=np.float32)
path = sys.argv[3]
t0 = time.perf_counter()
index = faiss.IndexFlatIP(docs.shape[1])
for lo in range(0, docs.shape[0], 100_000):  # stream like irflow's writer
    index.add(np.ascontiguousarray(docs[lo:lo + 100_000], dtype=np.float32))
faiss.write_index(index, path)
build = time.perf_counter() - t0
print(json.dumps({"impl": "faiss", "version": faiss.__version__, "build_s": build,
                  "index_bytes": os.path.getsize(path), "docs": index.ntotal, "dim": index.d}), flush=True)
for line in sys.stdin:
    cmd = line.split()
    if not cmd or cmd[0] == "quit":
        break
    k, threads, ids_out = int(cmd[1]), int(cmd[2]), cmd[3]
    faiss.omp_set_num_threads(threads)
    t0, c0 = time.perf_counter(), time.process_time()
    _, ids = index.search(queries, k)
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    np.save(ids_out, ids.astype(np.int64))
    print(json.dumps({"impl": "faiss", "k": k, "threads": threads, "seconds": secs, "cpu_s": cpu,
                      "qps": len(queries) / secs}), flush=True)

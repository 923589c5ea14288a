"""faiss oracle for irflow's index/ivf: loads the trained parts of an irflow
ivf index (centroids, codebooks, OPQ rotation) and its inverted lists (document
numbers and codes or vectors, exactly as irflow assigned and encoded them) into
the corresponding faiss index (IndexIVFFlat, IndexPQ, IndexIVFPQ, wrapped in an
IndexPreTransform with a LinearTransform for OPQ) and searches it with faiss.
Same parts, same lists: what is left to compare is faiss's list probing and its
ADC tables and sums.

usage: faiss_search.py INDEX_DIR QUERIES.f32 K NPROBE[,NPROBE...] OUT.json [DOCS.f32]
QUERIES.f32: raw little-endian float32, rows of the index's dim. Cosine indexes
store unit vectors; the queries are normalised here as irflow does.
Also reports how many of irflow's codes faiss's own encoder reproduces
(DOCS.f32 as a 6th argument: the dense vectors in document order).
writes {"runs": [{"nprobe": p, "D": [[...]], "I": [[...]]}, ...], "code_agreement": x or null}
(L2 distances as irflow scores them: -sqrt(d); missing hits, -1 in faiss, dropped)
"""
import json, os, sys

import faiss
import numpy as np

faiss.omp_set_num_threads(1)
ixdir, qpath, k, nprobe, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), [int(p) for p in sys.argv[4].split(",")], sys.argv[5]
docs_path = sys.argv[6] if len(sys.argv) > 6 else None
meta = json.load(open(os.path.join(ixdir, "meta.json")))
d, n, method, sim = meta["dim"], meta["num_docs"], meta["method"], meta["similarity"]
metric = faiss.METRIC_L2 if sim == "l2" else faiss.METRIC_INNER_PRODUCT


def f32(name, shape):
    return np.fromfile(os.path.join(ixdir, name), dtype="<f4").reshape(shape)


q = np.fromfile(qpath, dtype="<f4").reshape(-1, d)
if sim == "cosine":
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-8)
q = np.ascontiguousarray(q, dtype=np.float32)
nlist = 1 if method == "pq" else meta["n_lists"]
offs = np.fromfile(os.path.join(ixdir, "listoffs.bin"), dtype="<u8")
docs = np.fromfile(os.path.join(ixdir, "listdocs.bin"), dtype="<u4").astype(np.int64)
data = np.fromfile(os.path.join(ixdir, "listdata.bin"), dtype=np.uint8)
code_size = 4 * d if method == "ivf" else meta["m"]
data = data.reshape(n, code_size)

if method in ("ivf", "ivfpq"):
    quantizer = faiss.IndexFlatL2(d) if metric == faiss.METRIC_L2 else faiss.IndexFlatIP(d)
    quantizer.add(f32("centroids.bin", (nlist, d)))
    if method == "ivf":
        index = faiss.IndexIVFFlat(quantizer, d, nlist, metric)
    else:
        index = faiss.IndexIVFPQ(quantizer, d, nlist, meta["m"], 8, metric)
        faiss.copy_array_to_vector(f32("codebooks.bin", (-1,)), index.pq.centroids)
        index.precompute_table()
    index.is_trained = True
    for l in range(nlist):
        lo, hi = int(offs[l]), int(offs[l + 1])
        if hi > lo:
            ids = np.ascontiguousarray(docs[lo:hi])
            codes = np.ascontiguousarray(data[lo:hi])
            index.invlists.add_entries(l, hi - lo, faiss.swig_ptr(ids), faiss.swig_ptr(codes))
    index.ntotal = n
    inner = index
else:  # pq: one list in document order (listdocs is 0..n-1)
    assert (docs == np.arange(n)).all()
    index = faiss.IndexPQ(d, meta["m"], 8, metric)
    faiss.copy_array_to_vector(f32("codebooks.bin", (-1,)), index.pq.centroids)
    faiss.copy_array_to_vector(np.ascontiguousarray(data).ravel(), index.codes)
    index.ntotal = n
    index.is_trained = True
    inner = index

if meta["opq"]:
    lt = faiss.LinearTransform(d, d, False)
    faiss.copy_array_to_vector(f32("rotation.bin", (-1,)), lt.A)
    faiss.copy_array_to_vector(np.zeros(d, dtype=np.float32), lt.b)
    lt.is_trained = True
    index = faiss.IndexPreTransform(lt, index)

runs = []
for p in nprobe:
    if method != "pq":
        inner.nprobe = p
    D, I = index.search(q, k)
    if sim == "l2":
        D = -np.sqrt(np.maximum(D, 0))
    runs.append({"nprobe": p, "D": [[float(v) for v, j in zip(dr, ir) if j >= 0] for dr, ir in zip(D, I)],
                 "I": [[int(j) for j in ir if j >= 0] for ir in I]})

agree = None
if docs_path and method != "ivf":
    x = np.fromfile(docs_path, dtype="<f4").reshape(n, d)
    if sim == "cosine":
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)
    if meta["opq"]:
        x = x @ f32("rotation.bin", (d, d)).T
    x = np.ascontiguousarray(x, dtype=np.float32)
    if method == "ivfpq":
        lists = np.empty(n, dtype=np.int64)
        for l in range(nlist):
            lists[docs[int(offs[l]):int(offs[l + 1])]] = l
        x = x - f32("centroids.bin", (nlist, d))[lists]
    mine = np.empty_like(data)
    mine[docs] = data
    theirs = inner.pq.compute_codes(np.ascontiguousarray(x, dtype=np.float32))
    agree = float((theirs == mine).mean())

json.dump({"runs": runs, "code_agreement": agree, "faiss": faiss.__version__}, open(out, "w"))

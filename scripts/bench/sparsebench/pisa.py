"""PISA (through pyterrier-pisa) on a sparsebench corpus: index the
integer-weight vectors as they are (toks_indexer at scale 1: PISA's
quantised impacts are then the same integers irflow and Anserini index),
and time single-thread retrieval of each query with the "quantized" scorer
(score = sum of query weight x impact) and, by default, MaxScore: on
these long SPLADE-like queries it is PISA's fastest (block-max WAND,
pyterrier-pisa's default, took 2-3x its CPU time on the synthetic corpus). Queries go straight to the C++ retrieval call, one at a
time, so pandas/PyTerrier overhead is not timed. One warm-up pass, then a
timed pass.

BM25 (for `task bench:bm25-pisa`): PISA's own analysis (porter2 stemmer,
Lucene's stop words, the closest to irflow's Lucene analysis it offers),
BM25 k1 = 0.9, b = 0.4, the query text analysed inside the timed call.
The bm25-toks-* commands index irflow's own analysed terms instead
(`bm25bench pisa-toks`: each document's term frequencies read back from
irflow's index, each query's terms and counts from irflow's analyzer), so
both systems traverse the same postings; the queries are then passed
pretokenised (no analysis inside the timed call, where irflow's timing
includes it). Both report the mean number of postings of the query terms
(postings_mean), and call_floor_ms, the mean time of a retrieve call for
a query of no known term: the fixed cost of the Python binding.

usage: pisa.py index VECTORS_JSONL INDEX_DIR
       pisa.py latency INDEX_DIR QUERIES_JSONL K [RUN_OUT [ALGORITHM]]
       pisa.py bm25-index CORPUS_JSONL INDEX_DIR          (BEIR: title + " " + text)
       pisa.py bm25-latency INDEX_DIR QUERIES_TSV K [ALGORITHM]
       pisa.py bm25-toks-index TOKS_JSONL INDEX_DIR    (bm25bench pisa-toks docs.jsonl)
       pisa.py bm25-toks-latency INDEX_DIR QUERIES_JSONL K [ALGORITHM]
"""
import json
import shutil
import sys
import time

import numpy as np
import pyterrier_pisa as ptp
from pyterrier_pisa import _pisathon


def open_index(path):
    shutil.rmtree(path, ignore_errors=True)  # pyterrier-pisa refuses to overwrite an index
    return ptp.PisaIndex(path, stemmer="none", stops="none", threads=1)


def index(vectors, path):
    def docs():
        with open(vectors) as f:
            for line in f:
                d = json.loads(line)
                yield {"docno": d["id"], "toks": d["vector"]}

    open_index(path).toks_indexer(scale=1.0, threads=1).index(docs())


def latency(path, queries, k, run_out=None, algorithm="maxscore"):
    idx = ptp.PisaIndex(path, stemmer="none", stops="none", threads=1)
    retr = idx.quantized(num_results=k, threads=1, toks_scale=1.0, query_algorithm=algorithm)
    retr.reset_retrieval_context()
    qs = []
    with open(queries) as f:
        for line in f:
            q = json.loads(line)
            qs.append((q["id"], {str(t): float(w) for t, w in q["vector"].items()}))
    qidx = np.empty(k, dtype=np.int32)
    docnos = np.empty(k, dtype=object)
    ranks = np.empty(k, dtype=np.int32)
    scores = np.empty(k, dtype=np.float32)
    nanos = [0] * len(qs)
    cpu = [0] * len(qs)
    results = [None] * len(qs)
    for _ in range(2):
        for i, (qid, toks) in enumerate(qs):
            t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
            n = _pisathon.retrieve(retr._ctxt, retr.query_algorithm.value, [(0, toks)], k=k, threads=1,
                                   query_weighted=1, pretokenised=True, result_qidxs=qidx,
                                   result_docnos=docnos, result_ranks=ranks, result_scores=scores)
            nanos[i] = time.perf_counter_ns() - t0
            cpu[i] = time.thread_time_ns() - c0
            results[i] = list(zip(docnos[:n], scores[:n]))
    if run_out:
        with open(run_out, "w") as w:
            for (qid, _), res in zip(qs, results):
                for r, (doc, s) in enumerate(res):
                    w.write(f"{qid} Q0 {doc} {r + 1} {float(s)!r} pisa\n")
    report(nanos, cpu)


def bm25_index(corpus, path):
    def docs():
        with open(corpus) as f:
            for line in f:
                d = json.loads(line)
                yield {"docno": d["_id"], "text": ((d.get("title") or "") + " " + d.get("text", "")).strip()}

    shutil.rmtree(path, ignore_errors=True)
    ptp.PisaIndex(path, stemmer="porter2", stops="lucene", threads=1).indexer(text_field="text", threads=1).index(docs())


def doc_freqs(path):
    """Each term's number of postings, from PISA's binary collection
    (inv.docs: [1, #docs], then per term id [df, docids...]) and its
    lexicon (fwd.terms: one term per line, in term id order)."""
    inv = np.fromfile(f"{path}/inv.docs", dtype=np.uint32)
    with open(f"{path}/fwd.terms") as f:
        terms = f.read().split("\n")
    dfs, pos = {}, 2
    for t in terms[:-1] if terms and terms[-1] == "" else terms:
        n = int(inv[pos])
        dfs[t] = n
        pos += 1 + n
    return dfs


def bm25_latency(path, queries, k, algorithm="maxscore"):
    idx = ptp.PisaIndex(path, stemmer="porter2", stops="lucene", threads=1)
    retr = idx.bm25(k1=0.9, b=0.4, num_results=k, threads=1, query_algorithm=algorithm)
    retr.reset_retrieval_context()
    qs = []
    with open(queries) as f:
        for line in f:
            if line.strip():
                qid, text = line.rstrip("\n").split("\t", 1)
                qs.append(text)
    # Postings as PISA's query parser finds them: its tokenizer and
    # stemmer, minus the (stemmed) stop words, distinct terms.
    dfs = doc_freqs(path)
    stops = {t for w in ptp.stopwords._STOPWORDS["lucene"] for t in ptp.tokenize(w, "porter2")}
    postings = sum(dfs.get(t, 0) for text in qs for t in set(ptp.tokenize(text, "porter2")) - stops)
    time_queries(retr, [(0, text) for text in qs], k, False, postings)


def bm25_toks_index(toks, path):
    def docs():
        with open(toks) as f:
            for line in f:
                yield json.loads(line)

    open_index(path).toks_indexer(scale=1.0, threads=1).index(docs())


def bm25_toks_latency(path, queries, k, algorithm="maxscore"):
    idx = ptp.PisaIndex(path, stemmer="none", stops="none", threads=1)
    retr = idx.bm25(k1=0.9, b=0.4, num_results=k, threads=1, query_algorithm=algorithm, query_weighted=1)
    retr.reset_retrieval_context()
    qs = []
    with open(queries) as f:
        for line in f:
            q = json.loads(line)
            qs.append((0, {t: float(c) for t, c in q["toks"].items()}))
    dfs = doc_freqs(path)
    postings = sum(dfs.get(t, 0) for _, toks in qs for t in toks)
    time_queries(retr, qs, k, True, postings)


def time_queries(retr, qs, k, pretokenised, postings):
    """One warm-up pass, then a timed pass of single-query retrieve calls."""
    a = [np.empty(k, dtype=t) for t in (np.int32, object, np.int32, np.float32)]
    alg = retr.query_algorithm.value

    def call(q):
        return _pisathon.retrieve(retr._ctxt, alg, [q], k=k, threads=1, query_weighted=int(pretokenised),
                                  pretokenised=pretokenised, result_qidxs=a[0], result_docnos=a[1],
                                  result_ranks=a[2], result_scores=a[3])

    nanos, cpu = [0] * len(qs), [0] * len(qs)
    for _ in range(2):
        for i, q in enumerate(qs):
            t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
            call(q)
            nanos[i] = time.perf_counter_ns() - t0
            cpu[i] = time.thread_time_ns() - c0
    report(nanos, cpu)
    absent = (0, {"\x01absent\x01": 1.0}) if pretokenised else (0, "\x01")
    t0 = time.perf_counter_ns()
    for _ in range(1000):
        call(absent)
    print(f"postings_mean={postings / len(qs):.1f} call_floor_ms={(time.perf_counter_ns() - t0) / 1000 / 1e6:.4f}")


def report(nanos, cpu):
    s, c = sorted(nanos), sorted(cpu)
    n = len(s)
    print(f"queries={n} mean_ms={sum(s) / n / 1e6:.4f} p50_ms={s[(n - 1) * 50 // 100] / 1e6:.4f} p99_ms={s[(n - 1) * 99 // 100] / 1e6:.4f}"
          f" cpu_mean_ms={sum(c) / n / 1e6:.4f} cpu_p50_ms={c[(n - 1) * 50 // 100] / 1e6:.4f} cpu_p99_ms={c[(n - 1) * 99 // 100] / 1e6:.4f}")


if __name__ == "__main__":
    if sys.argv[1] == "index":
        index(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "bm25-index":
        bm25_index(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "bm25-latency":
        bm25_latency(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else "maxscore")
    elif sys.argv[1] == "bm25-toks-index":
        bm25_toks_index(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "bm25-toks-latency":
        bm25_toks_latency(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else "maxscore")
    else:
        latency(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else None,
                sys.argv[6] if len(sys.argv) > 6 else "maxscore")

"""Inputs and outputs shared by the neural retrieval oracles (retrieve.py,
lir_search.py): reading documents and queries the way irflow does, exact
ranking with irflow's tie rule, and TREC run files.

Run the scripts by path (they import this module from their own directory).
"""
import json
import os
import resource

import numpy as np


def _lines(path):
    """Non-blank lines without their line ending (irflow skips blank lines)."""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.endswith("\r"):
                line = line[:-1]
            if line.strip():
                yield n, line


def _is_jsonl(path):
    p = path[:-3] if path.endswith(".gz") else path
    return p.endswith(".jsonl") or p.endswith(".json")


def _json(line):
    # Numbers stay their literal text: irflow keeps a numeric "_id" as written.
    return json.loads(line, parse_int=str, parse_float=str)


def _json_id(rec, path, n):
    v = rec.get("_id")
    if isinstance(v, str) and v:
        return v
    raise SystemExit(f"{path}:{n}: missing, empty or non-string \"_id\"")


def _tsv(line, path, n):
    if "\t" not in line:
        return line, ""
    pid, text = line.split("\t", 1)
    if "\t" in text:
        raise SystemExit(f"{path}:{n}: more than 2 tab-separated columns, want id<TAB>text")
    return pid, text


def read_docs(path, limit=0):
    """[(doc_id, text)] in file order, the first `limit` when limit > 0.

    BEIR JSONL: text = title + " " + text when the title is non-empty, else
    text (irflow's readDocs, BEIR's dense-retrieval concatenation); TSV:
    id<TAB>text.
    """
    out = []
    jsonl = _is_jsonl(path)
    for n, line in _lines(path):
        if jsonl:
            rec = _json(line)
            title, text = rec.get("title") or "", rec.get("text") or ""
            out.append((_json_id(rec, path, n), title + " " + text if title else text))
        else:
            out.append(_tsv(line, path, n))
        if limit and len(out) >= limit:
            break
    seen = set()
    for did, _ in out:
        if did in seen:
            raise SystemExit(f"{path}: duplicate document id {did!r}")
        seen.add(did)
    return out


def read_queries(path, limit=0):
    """[(query_id, text)]: TSV id<TAB>text or JSONL with "_id" and "text"."""
    out = []
    jsonl = _is_jsonl(path)
    for n, line in _lines(path):
        if jsonl:
            rec = _json(line)
            out.append((_json_id(rec, path, n), rec.get("text") or ""))
        else:
            out.append(_tsv(line, path, n))
        if limit and len(out) >= limit:
            break
    return out


def top_k(scores, k, drop=None):
    """Indices of the k best documents: score descending, exact ties broken
    by document position ascending (irflow's rule). drop: a document index
    left out (--remove-query)."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    if drop is not None:
        order = order[order != drop]
    return order[:k]


def fmt_score(x):
    """Full precision: an integer as is, a float as the repr of its value
    (an fp32 score prints the exact binary value it holds)."""
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return repr(float(x))


def write_run(path, rows, tag):
    """rows: [(qid, [(doc_id, score)] best first)] -> TREC run file."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for qid, hits in rows:
            for rank, (did, s) in enumerate(hits, 1):
                f.write(f"{qid} Q0 {did} {rank} {fmt_score(s)} {tag}\n")


def rank_all(score_rows, qids, doc_ids, k, remove_query):
    """score_rows yields one score vector per query (in qids order)."""
    pos = {d: i for i, d in enumerate(doc_ids)} if remove_query else {}
    rows = []
    for qid, s in zip(qids, score_rows):
        idx = top_k(s, k, pos.get(qid))
        rows.append((qid, [(doc_ids[i], s[i]) for i in idx]))
    return rows


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

# sentence-transformers re-ranking reference: cosine scores of the top
# `depth` hits of each query of a TREC run (hits ranked as trec_eval does).
# usage: st_rerank.py MODEL_DIR RUN QUERIES_TSV DOCS_TSV DEPTH
# prints {qid: {docid: score}}
import collections, json, sys

from sentence_transformers import SentenceTransformer, util

model_dir, run_path, queries_path, docs_path, depth = sys.argv[1:6]
depth = int(depth)
run = collections.defaultdict(list)
for line in open(run_path):
    qid, _, did, _, score, _ = line.split()
    run[qid].append((float(score), did))
queries = dict(l.rstrip("\n").split("\t", 1) for l in open(queries_path, encoding="utf-8"))
docs = dict(l.rstrip("\n").split("\t", 1) for l in open(docs_path, encoding="utf-8"))
# Eager attention: the formula irflow computes (SDPA is the same math in another order).
m = SentenceTransformer(model_dir, device="cpu", model_kwargs={"attn_implementation": "eager"})
pairs = {}
for qid, hits in sorted(run.items()):
    hits.sort(key=lambda h: h[1], reverse=True)  # trec_eval order: ties by doc id descending,
    hits.sort(key=lambda h: -h[0])  # then score descending (stable)
    pairs[qid] = [did for _, did in hits[:depth]]
# Encode every query and every distinct document once (sentence-transformers
# sorts them by length itself), then take the cosine of each pair.
qids = sorted(pairs)
dids = sorted({d for ds in pairs.values() for d in ds})
qemb = m.encode([queries[q] for q in qids], convert_to_tensor=True, batch_size=32)
demb = m.encode([docs[d] for d in dids], convert_to_tensor=True, batch_size=32)
qpos = {q: i for i, q in enumerate(qids)}
dpos = {d: i for i, d in enumerate(dids)}
out = {}
for q, ds in pairs.items():
    sims = util.cos_sim(qemb[qpos[q]:qpos[q] + 1], demb[[dpos[d] for d in ds]])[0].tolist()
    out[q] = dict(zip(ds, sims))
print(json.dumps(out))

"""Lightning IR 0.0.6's own exact indexes, run programmatically: index the
documents with TorchSparseIndexer (splade) or TorchDenseIndexer (col,
lir-dpr), search the queries with TorchSparseSearcher / TorchDenseSearcher,
write the TREC run.

  lir_search.py --kind splade|col|dpr --model DIR --docs FILE --queries FILE --index-dir DIR --out run.trec
                [--limit-docs N] [--limit-queries N] [--k 1000] [--query-length N] [--doc-length N]
                [--threads 2] [--batch-size 8] [--exact-out run.trec] [--reuse-index]

splade on a plain BertForMaskedLM directory applies SpladeConfig(query_length,
doc_length) (Lightning IR's defaults 32/512); dpr on a sentence-transformers
directory applies DprConfig(mean pooling, normalize, cosine, no projection,
lengths = max_seq_length), i.e. all-MiniLM-L6-v2's semantics; a Lightning IR
directory (config.json with backbone_model_type) is loaded as saved.
--exact-out also scores every (query, document) pair with the model's own
scoring (BiEncoderModule.score), which for col differs from the searcher
(see README: the searcher clamps MaxSim at 0).
The searcher's ranking of exact ties is torch.topk's, not irflow's.
"""
import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import runio  # noqa: E402
from lightning_ir import BiEncoderModule  # noqa: E402
from lightning_ir.data import IndexBatch, SearchBatch  # noqa: E402
from lightning_ir.models import DprConfig, SpladeConfig  # noqa: E402
from lightning_ir.retrieve import (  # noqa: E402
    TorchDenseIndexConfig,
    TorchDenseSearchConfig,
    TorchSparseIndexConfig,
    TorchSparseSearchConfig,
)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=["splade", "col", "dpr"], required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--docs", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--exact-out", help="also rank by BiEncoderModule.score over all pairs (re-encodes the documents "
                    "once per query: meant for the tiny col model)")
    ap.add_argument("--reuse-index", action="store_true", help="search an index --index-dir already holds")
    ap.add_argument("--limit-docs", type=int, default=0)
    ap.add_argument("--limit-queries", type=int, default=0)
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--query-length", type=int)
    ap.add_argument("--doc-length", type=int)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8)
    return ap.parse_args(argv)


def load_module(a):
    cfg = json.loads((Path(a.model) / "config.json").read_text())
    config = None
    if "backbone_model_type" not in cfg:  # a plain backbone: apply the head here
        if a.kind == "splade":
            config = SpladeConfig(query_length=a.query_length or 32, doc_length=a.doc_length or 512)
        elif a.kind == "dpr":
            sb = json.loads((Path(a.model) / "sentence_bert_config.json").read_text())
            n = sb["max_seq_length"]
            config = DprConfig(query_length=a.query_length or n, doc_length=a.doc_length or n,
                               pooling_strategy="mean", normalize=True, similarity_function="cosine",
                               projection=None)
        else:
            raise SystemExit(f"{a.model}: not a Lightning IR col directory (no backbone_model_type)")
    elif a.query_length or a.doc_length:
        raise SystemExit("--query-length/--doc-length apply to plain backbones; a Lightning IR directory keeps its own")
    module = BiEncoderModule(model_name_or_path=a.model, config=config).eval()
    return module


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    docs = runio.read_docs(a.docs, a.limit_docs)
    queries = runio.read_queries(a.queries, a.limit_queries)
    module = load_module(a)
    sparse = a.kind == "splade"
    index_config = TorchSparseIndexConfig() if sparse else TorchDenseIndexConfig()
    index_dir = Path(a.index_dir)
    t0 = time.time()
    if a.reuse_index and (index_dir / "config.json").exists():
        have = (index_dir / "doc_ids.txt").read_text().split()
        if have != [d for d, _ in docs]:
            raise SystemExit(f"{index_dir}: indexed documents differ from --docs/--limit-docs")
    else:
        indexer = index_config.indexer_class(index_dir, index_config, module)
        with torch.no_grad():
            for s in range(0, len(docs), a.batch_size):
                chunk = docs[s : s + a.batch_size]
                batch = IndexBatch([d for d, _ in chunk], [t for _, t in chunk])
                indexer.add(batch, module.forward(batch))
        indexer.save()
    index_secs = time.time() - t0
    # torch.topk in ExactSearcher fails when k exceeds the number of documents.
    k = min(a.k, len(docs))
    module.search_config = (TorchSparseSearchConfig if sparse else TorchDenseSearchConfig)(k=k)
    module.index_dir = index_dir
    module._init_searcher()
    rows = []
    t0 = time.time()
    with torch.no_grad():
        for s in range(0, len(queries), a.batch_size):
            chunk = queries[s : s + a.batch_size]
            batch = SearchBatch([q for q, _ in chunk], [t for _, t in chunk])
            out = module.forward(batch)
            scores = out.scores.view(len(chunk), -1)
            for (qid, _), ids, sc in zip(chunk, batch.doc_ids, scores.tolist()):
                rows.append((qid, list(zip(ids, sc))))  # fp32 values, exactly
    search_secs = time.time() - t0
    runio.write_run(a.out, rows, f"lightning-ir-{a.kind}")
    info = {"kind": a.kind, "docs": len(docs), "queries": len(queries), "k": k, "index_seconds": index_secs,
            "search_seconds": search_secs, "index_dir": str(index_dir), "run": a.out,
            "config": {key: getattr(module.config, key, None) for key in
                       ("model_type", "query_length", "doc_length", "similarity_function", "embedding_dim")}}
    if a.exact_out:
        import numpy as np

        doc_ids = [d for d, _ in docs]
        texts = [t for _, t in docs]
        vecs = []
        with torch.no_grad():
            for qid, q in queries:
                parts = [module.score(q, texts[s : s + 64]).scores.view(-1) for s in range(0, len(texts), 64)]
                vecs.append(torch.cat(parts).numpy().astype(np.float32))
        runio.write_run(a.exact_out, runio.rank_all(vecs, [q for q, _ in queries], doc_ids, a.k, False),
                        f"lightning-ir-{a.kind}-score")
        info["exact_run"] = a.exact_out
    print(json.dumps(info))


if __name__ == "__main__":
    main()

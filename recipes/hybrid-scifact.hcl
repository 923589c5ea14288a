# Hybrid retrieval on BEIR SciFact (test split): BM25 (Lucene-exact, flat
# title + text), all-MiniLM-L6-v2 dense and splade-tiny sparse first-stage
# runs, fused by reciprocal rank fusion and by a min-max normalised weighted
# sum (ranx's rrf and wsum), then evaluated side by side.
#
#   ./task setup && ./task build
#   bin/irflow run recipes/hybrid-scifact.hcl
#
# The dense and sparse stages are those of dense-scifact.hcl and splade.hcl
# (same inputs and parameters, so the same cache keys: a cache that ran
# those recipes runs only BM25 and the fusions here).

locals {
  data   = "../../shared/data/scifact"
  minilm = "hf:sentence-transformers/all-MiniLM-L6-v2"
  splade = "hf:rasyosef/splade-tiny"
}

collection "scifact" {
  docs    = "${local.data}/corpus.jsonl"
  queries = "${local.data}/queries.tsv"
  qrels   = "${local.data}/qrels.txt"
  sha256 = {
    docs    = "ae39e2b331413acd6c58c262e3d2c1bf2b4afb5407ccfa6d06dd3f06e5da1f28"
    queries = "985857c4b96c9e257ca2f70a4d18d7dc12aea5fd8da78fc265edf9720ee2026c"
    qrels   = "8b7315286f8dc823956025a1fc9c9ff0bfe142d7b409458ccd758cfa0713ccba"
  }
}

index "bm25" {
  docs = collection.scifact.docs
}

search "bm25" {
  index        = index.bm25.index
  queries      = collection.scifact.queries
  k            = 1000
  remove_query = true
}

index "minilm" {
  method = "dense"
  docs   = collection.scifact.docs
  model  = local.minilm
}

search "minilm" {
  method  = "dense"
  index   = index.minilm.index
  queries = collection.scifact.queries
  model   = local.minilm
  k       = 1000
}

index "splade" {
  method = "sparse"
  docs   = collection.scifact.docs
  model  = local.splade
  head   = "splade"
}

search "splade" {
  method  = "sparse"
  index   = index.splade.index
  queries = collection.scifact.queries
  model   = local.splade
  head    = "splade"
  k       = 1000
}

fuse "rrf" {
  method = "rrf"
  runs   = [search.bm25.run, search.minilm.run, search.splade.run]
  k      = 1000
}

fuse "wsum" {
  method        = "wsum"
  runs          = [search.bm25.run, search.minilm.run, search.splade.run]
  normalization = "min-max"
  k             = 1000
}

evaluate "bm25" {
  run     = search.bm25.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "R@100"]
  # Pyserini's published BM25 flat: nDCG@10 0.6789, R@100 0.9253.
  expect = { "nDCG@10" = "0.6789 ± 0.0005", "R@100" = "0.9253 ± 0.0005" }
}

evaluate "rrf" {
  run     = fuse.rrf.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "R@100"]
  # ranx 0.3.21 (rrf, k 60) over the three runs as their oracles make them
  # (BM25: irflow's, bit-identical to Anserini's; dense: sentence-transformers;
  # sparse: transformers, round(w × 100)), evaluated by pytrec_eval:
  # nDCG@10 0.716858, R@100 0.961. A looser tolerance than the single systems'
  # 1e-4: a last-bit score difference in one input can swap fused ranks.
  expect = { "nDCG@10" = "0.716858 ± 0.001", "R@100" = "0.961 ± 0.001" }
}

evaluate "wsum" {
  run     = fuse.wsum.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "R@100"]
  # ranx 0.3.21 (wsum, min-max, equal weights) over the same oracle runs,
  # pytrec_eval: nDCG@10 0.733551, R@100 0.961667.
  expect = { "nDCG@10" = "0.733551 ± 0.001", "R@100" = "0.961667 ± 0.001" }
}

# Hybrid retrieval on TREC DL 2019 (passage): fuses the bundled top-100 runs
# of BM25, SPLADE++ED (learned sparse) and TAS-B (dense) with reciprocal
# rank fusion and with a min-max normalised weighted sum, and evaluates both.
#
#   irflow run recipes/fuse-dl19.hcl
#
# The expected values come from ranx 0.3.21 (ranx.fuse on the same runs, ties
# of each input ranked the trec_eval way) evaluated by pytrec_eval:
# scripts/oracle/ranx_fuse_dl19.py prints them. ir/fusion's tests check that
# irflow's fused scores equal ranx's. For reference, the single runs score
# nDCG@10 0.5058 (BM25), 0.7308 (SPLADE++ED), 0.7210 (TAS-B).

variable "data" {
  type        = string
  default     = "../../shared/data/msmarco-passage"
  description = "The msmarco-passage collection directory (relative to this recipe)."
}

collection "dl19" {
  qrels  = "${var.data}/qrels.dl19.txt"
  bm25   = "${var.data}/rerank/runs/bm25.dl19.top100.trec"
  splade = "${var.data}/rerank/runs/splade-pp-ed.dl19.top100.trec"
  tasb   = "${var.data}/rerank/runs/tasb.dl19.top100.trec"
  sha256 = {
    qrels  = "54dea8f531d6bfd93da8d3dd2f4f7a2609e2fb962835a000780ec60b1b819387"
    bm25   = "cbada2e4f710f8cafb8f1fd54e2289011b3273cdc044adb2380af21f63a6c861"
    splade = "5e09e4219740fd9b2a57637fccf6d00932c938c47a07b97ce0852c0b2596a4e1"
    tasb   = "194ac7678312edbbd9aeb322e5b00fac63ecf081fccc2dd88e4c0dd2d8fc255e"
  }
}

# Σ 1/(60 + rank) over the three runs.
fuse "rrf" {
  runs   = [collection.dl19.bm25, collection.dl19.splade, collection.dl19.tasb]
  method = "rrf"
  rrf_k  = 60
}

# Each run's scores min-max normalised per query, then 0.2·BM25 + 0.4·SPLADE
# + 0.4·TAS-B (weights fixed beforehand, not tuned on DL19).
fuse "wsum" {
  runs          = [collection.dl19.bm25, collection.dl19.splade, collection.dl19.tasb]
  method        = "wsum"
  normalization = "min-max"
  weights       = [0.2, 0.4, 0.4]
}

evaluate "rrf" {
  run     = fuse.rrf.run
  qrels   = collection.dl19.qrels
  metrics = ["nDCG@10", "RR(rel=2)@10", "R(rel=2)@100"]
  # ranx + pytrec_eval: nDCG@10 0.726251, RR(rel=2)@10 0.907752, R(rel=2)@100 0.657886.
  expect = { "nDCG@10" = "~= 0.726251", "RR(rel=2)@10" = "~= 0.907752" }
}

evaluate "wsum" {
  run     = fuse.wsum.run
  qrels   = collection.dl19.qrels
  metrics = ["nDCG@10", "RR(rel=2)@10", "R(rel=2)@100"]
  # ranx + pytrec_eval: nDCG@10 0.751250, RR(rel=2)@10 0.921927, R(rel=2)@100 0.669240.
  expect = { "nDCG@10" = "~= 0.751250", "RR(rel=2)@10" = "~= 0.921927" }
}

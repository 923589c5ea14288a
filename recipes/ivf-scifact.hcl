# Approximate dense retrieval on BEIR SciFact (test split): all-MiniLM-L6-v2
# (cosine, 384-d) with an IVF-PQ index — 64 inverted lists from seeded
# k-means, every vector stored as 48 bytes (8-bit codes of 48 sub-vectors of
# 8 dimensions) after an OPQ rotation — searched in the 16 nearest lists, the
# 1,000 best candidates by asymmetric distance re-scored exactly from the
# stored vectors (Lightning IR's FaissIVFPQIndexConfig / FaissSearchConfig
# with imputation "gather"). The approximate index is trained on the exact
# dense index's vectors (one encoding for both), which runs beside it.
#
#   ./task setup && ./task build
#   bin/irflow run recipes/ivf-scifact.hcl
#
# Measured 2026-12-05 on the 2-core machine (load average ≈ 10): training
# (OPQ, k-means, codebooks; 5,183 vectors) 48 s, search of the 300 queries
# 12 s (mostly encoding them). Against the exact run of the same model (the
# share of its top k that the approximate run returns, mean over queries):
#   n_probe 16, candidate_k 1000 (below): recall@10 0.959, recall@100 0.916;
#       nDCG@10 0.6223, R@100 0.870 (exact: 0.6451, 0.925)
#   n_probe 8,  candidate_k 100:          recall@10 0.888, recall@100 0.716;
#       nDCG@10 0.5992, R@100 0.818
# These are irflow's own measurements, so the approximate run has no expect;
# the exact run's expect is the Python oracle's.

variable "model" {
  type        = string
  default     = "hf:sentence-transformers/all-MiniLM-L6-v2"
  description = "A single-vector bi-encoder: a directory or hf:org/name[@revision]."
}

locals {
  data = "../../shared/data/scifact"
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

index "exact" {
  method = "dense"
  docs   = collection.scifact.docs
  model  = var.model
}

search "exact" {
  method  = "dense"
  index   = index.exact.index
  queries = collection.scifact.queries
  model   = var.model
  k       = 100
}

index "ivfpq" {
  method  = "ivfpq"
  dense   = index.exact.index # trained on the exact index's vectors: one encoding
  n_lists = 64
  m       = 48
  opq     = true
  seed    = 1
}

search "ivfpq" {
  method      = "ivfpq"
  index       = index.ivfpq.index
  queries     = collection.scifact.queries
  model       = var.model
  k           = 100
  n_probe     = 16
  candidate_k = 1000
  rescore     = true
}

evaluate "exact" {
  run     = search.exact.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "R@100"]
  # The Python oracle's values (scripts/oracle/neural/retrieve.py --kind
  # dense, exact cosine in PyTorch; see recipes/dense-scifact.hcl).
  expect = { "nDCG@10" = "0.645082 ± 0.0001", "R@100" = "0.925 ± 0.0001" }
}

evaluate "ivfpq" {
  run     = search.ivfpq.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "R@100"]
}

evaluate "ivfpq_vs_exact" {
  method    = "overlap"
  run       = search.ivfpq.run
  reference = search.exact.run
  metrics   = ["recall@10", "recall@100"]
}

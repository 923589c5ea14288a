# Approximate multi-vector retrieval on BEIR SciFact (test split): PLAID over
# the token vectors of an exact multi-vector (ColBERT-style) index, with
# recall against that exact search and nDCG@10 for both.
#
# No trained ColBERT can be fetched on this project's machines (no model hub),
# so the default model is all-MiniLM-L6-v2 used as a late-interaction model
# without training: Lightning IR's col head with no projection, its 384-d
# token vectors L2-normalised, MaxSim summed over query tokens. That is a
# zero-shot ColBERT, weaker than a trained one; what this recipe measures is
# how much of its exact search PLAID keeps. Point `model` at a trained col
# model directory (and drop head/head_options) for the real thing.
#
#   ./task setup && ./task build
#   bin/irflow run recipes/plaid-scifact.hcl
#
# 4,096 centroids instead of ColBERT's rule (16,384 for SciFact's ≈ 1.3M
# tokens: an hour of k-means on two cores), trained on 262,144 tokens.
# No expect values: there is no independent figure for this zero-shot model;
# the runs and their recall against exact search are reported
# (docs/neural-retrieval.md: 2-bit decompressed scores keep recall@10 against
# exact at 0.903-0.907; rescore = true, the plaid_rescored blocks, 0.986 at
# 1:256 and 0.996 at 2:1024).

variable "model" {
  type        = string
  default     = "hf:sentence-transformers/all-MiniLM-L6-v2"
  description = "A BERT-family model used with the col head: a directory or hf:org/name[@revision]."
}

locals {
  data = "../../shared/data/scifact"
  col = {
    projection    = ""
    normalization = "l2"
    doc_length    = "256"
  }
  # n_cells : candidate_k operating points
  points = { "1:256" = [1, 256], "2:1024" = [2, 1024], "4:4096" = [4, 4096] }
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
  method       = "multivector"
  docs         = collection.scifact.docs
  model        = var.model
  head         = "col"
  head_options = local.col
}

search "exact" {
  method       = "multivector"
  index        = index.exact.index
  queries      = collection.scifact.queries
  model        = var.model
  head         = "col"
  head_options = local.col
  k            = 100
}

index "plaid" {
  method        = "plaid"
  multivector   = index.exact.index # the exact index's token vectors: one encoding
  num_centroids = 4096
  train_size    = 262144
  n_bits        = 2
  seed          = 42
}

search "plaid" {
  for_each                 = local.points
  method                   = "plaid"
  index                    = index.plaid.index
  queries                  = collection.scifact.queries
  model                    = var.model
  head                     = "col"
  head_options             = local.col
  k                        = 100
  n_cells                  = each.value[0]
  candidate_k              = each.value[1]
  centroid_score_threshold = 0.5
}

# The same points with rescore = true: the candidate_k survivors of the
# centroid interaction scored from the exact index's full token vectors
# (exact MaxSim) instead of their 2-bit decompressions; what is left of the
# gap to exact search is candidate generation and pruning.
search "plaid_rescored" {
  for_each                 = local.points
  method                   = "plaid"
  index                    = index.plaid.index
  queries                  = collection.scifact.queries
  model                    = var.model
  head                     = "col"
  head_options             = local.col
  k                        = 100
  n_cells                  = each.value[0]
  candidate_k              = each.value[1]
  centroid_score_threshold = 0.5
  rescore                  = true
}

evaluate "exact" {
  run     = search.exact.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "R@100"]
}

evaluate "plaid" {
  for_each = local.points
  run      = search.plaid[each.key].run
  qrels    = collection.scifact.qrels
  metrics  = ["nDCG@10", "R@100"]
}

evaluate "plaid_vs_exact" {
  for_each  = local.points
  method    = "overlap"
  run       = search.plaid[each.key].run
  reference = search.exact.run
  metrics   = ["recall@10", "recall@100"]
}

evaluate "plaid_rescored" {
  for_each = local.points
  run      = search.plaid_rescored[each.key].run
  qrels    = collection.scifact.qrels
  metrics  = ["nDCG@10", "R@100"]
}

evaluate "plaid_rescored_vs_exact" {
  for_each  = local.points
  method    = "overlap"
  run       = search.plaid_rescored[each.key].run
  reference = search.exact.run
  metrics   = ["recall@10", "recall@100"]
}

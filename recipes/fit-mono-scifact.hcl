# A mono cross-encoder fine-tuned on SciFact's training claims, re-ranking
# the BM25 top 100 of the test claims.
#
# The backbone is BERT-Tiny (2 layers, hidden 128): the encoder of
# splade-tiny, the BERT-family checkpoint this machine has offline besides
# all-MiniLM-L6-v2 (which would take hours per run to train and re-rank on
# 2 CPU cores). `head = "mono"` puts Lightning IR's mono head (the [CLS]
# vector → a linear score) on it; the head's weights are new, initialised
# from the seed. Training pairs each claim with one judged-relevant
# abstract and seven non-relevant ones from irflow's BM25 top 100 of that
# claim (Lightning IR's single_relevant sampling), with the listwise
# InfoNCE loss plus RankNet.
#
#   ./task setup && ./task build
#   bin/irflow run recipes/fit-mono-scifact.hcl
#
# Starting points, evaluated side by side: BM25 itself, and the same
# backbone with its untrained mono head (a random linear layer: what the
# fine-tuning starts from).

variable "backbone" {
  type        = string
  default     = "hf:rasyosef/splade-tiny"
  description = "A BERT-family checkpoint whose encoder the cross-encoder starts from."
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

collection "scifact_train" {
  queries = "${local.data}/queries.train.tsv"
  qrels   = "${local.data}/qrels.train.txt"
  sha256 = {
    queries = "ff2782f73c72649f28cac0f49bc0ce00ff5ff82a12f810fb97fc8bd30d9b0e2b"
    qrels   = "f47c9c71986f21c262527659988a3ad7869e3b8fe7194197606af2bb79b529ee"
  }
}

index "bm25" {
  docs = collection.scifact.docs
}

search "bm25_train" {
  index   = index.bm25.index
  queries = collection.scifact_train.queries
  k       = 100
}

search "bm25" {
  index        = index.bm25.index
  queries      = collection.scifact.queries
  k            = 100
  remove_query = true
}

fit "mono" {
  model         = var.backbone
  head          = "mono"
  head_options  = { query_length = "32", doc_length = "256" }
  train_run     = search.bm25_train.run
  train_queries = collection.scifact_train.queries
  train_qrels   = collection.scifact_train.qrels
  docs          = collection.scifact.docs

  depth                 = 100
  sampling_strategy     = "single_relevant"
  sample_size           = 8
  drop_without_relevant = true
  batch_size            = 8

  losses        = { InfoNCE = 1, RankNet = 1 }
  lr            = 1e-4
  warmup_steps  = 30
  max_steps     = 450
  gradient_clip = 1
  seed          = 42
}

re_rank "untrained" {
  run     = search.bm25.run
  queries = collection.scifact.queries
  docs    = collection.scifact.docs
  model   = var.backbone
  head    = "mono"
  depth   = 100
}

re_rank "mono" {
  run     = search.bm25.run
  queries = collection.scifact.queries
  docs    = collection.scifact.docs
  model   = fit.mono.model
  depth   = 100
}

evaluate "bm25" {
  run     = search.bm25.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "RR@10", "R@100"]
}

evaluate "untrained" {
  run     = re_rank.untrained.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "RR@10", "R@100"]
}

evaluate "mono" {
  run     = re_rank.mono.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "RR@10", "R@100"]
}

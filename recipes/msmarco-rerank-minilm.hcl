# Re-ranks the bundled BM25 top-100 runs of TREC DL 2019 and 2020 (passage)
# with all-MiniLM-L6-v2 (sentence-transformers bi-encoder, cosine) and
# evaluates them. stages/rerank's tests check that irflow's scores equal
# sentence-transformers' (1e-5) and so give the same nDCG@10 (1e-4); the
# values measured for both are in docs/models.md.
#
#   bin/irflow run recipes/msmarco-rerank-minilm.hcl
#
# 4,300 (DL19, 43 queries) + 5,400 (DL20: the 54 judged queries the bundled
# run holds) query–passage pairs: about 3.5 minutes on 2 CPU cores.

variable "data" {
  type        = string
  default     = "../../shared/data/msmarco-passage"
  description = "The msmarco-passage collection directory (relative to this recipe)."
}

variable "model" {
  type        = string
  default     = "hf:sentence-transformers/all-MiniLM-L6-v2"
  description = "Ranking model: a directory or hf:org/name[@revision]."
}

collection "passages" {
  docs   = "${var.data}/rerank/passages.tsv"
}

collection "dl19" {
  queries = "${var.data}/queries.dl19.tsv"
  qrels   = "${var.data}/qrels.dl19.txt"
  bm25    = "${var.data}/rerank/runs/bm25.dl19.top100.trec"
  sha256 = {
    qrels = "54dea8f531d6bfd93da8d3dd2f4f7a2609e2fb962835a000780ec60b1b819387"
    bm25  = "cbada2e4f710f8cafb8f1fd54e2289011b3273cdc044adb2380af21f63a6c861"
  }
}

collection "dl20" {
  queries = "${var.data}/queries.dl20.tsv"
  qrels   = "${var.data}/qrels.dl20.txt"
  bm25    = "${var.data}/rerank/runs/bm25.dl20.top100.trec"
  sha256 = {
    qrels = "60d4c34561f9687f8f73e0a752ba80ab80159b3e9c1bedd0a351f747ed6f5684"
    bm25  = "fba5d55aa8335bd1c74f7860dee354e69986b627c640b34ba47e084e311c24d2"
  }
}

re_rank "dl19" {
  run     = collection.dl19.bm25
  queries = collection.dl19.queries
  docs    = collection.passages.docs
  model   = var.model
  depth   = 100
}

re_rank "dl20" {
  run     = collection.dl20.bm25
  queries = collection.dl20.queries
  docs    = collection.passages.docs
  model   = var.model
  depth   = 100
}

evaluate "bm25_dl19" {
  run     = collection.dl19.bm25
  qrels   = collection.dl19.qrels
  metrics = ["nDCG@10", "RR(rel=2)@10", "R(rel=2)@100"]
  expect  = { "nDCG@10" = "~= 0.5058" }
}

evaluate "bm25_dl20" {
  run     = collection.dl20.bm25
  qrels   = collection.dl20.qrels
  metrics = ["nDCG@10", "RR(rel=2)@10", "R(rel=2)@100"]
  expect  = { "nDCG@10" = "~= 0.4796" }
}

evaluate "minilm_dl19" {
  run     = re_rank.dl19.run
  qrels   = collection.dl19.qrels
  metrics = ["nDCG@10", "RR(rel=2)@10", "R(rel=2)@100"]
  # sentence-transformers' own re-ranking of the same pairs gives 0.642412
  # (stages/rerank BenchmarkReRankDL).
  expect = { "nDCG@10" = "~= 0.642412" }
}

evaluate "minilm_dl20" {
  run     = re_rank.dl20.run
  qrels   = collection.dl20.qrels
  metrics = ["nDCG@10", "RR(rel=2)@10", "R(rel=2)@100"]
  # sentence-transformers: 0.608143 (stages/rerank BenchmarkReRankDL).
  expect = { "nDCG@10" = "~= 0.608143" }
}

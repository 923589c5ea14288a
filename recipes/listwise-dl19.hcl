# Re-ranks the bundled BM25 top-100 run of TREC DL 2019 (passage) with a
# listwise Set-Encoder (Lightning IR's SetEncoderModel: each query's 100
# candidates in one pass, passages attending to each other's first token)
# and with monoT5 (castorini's T5 encoder–decoder, "Query: … Document: …
# Relevant:", the log-probability of "true"), and evaluates all three runs.
#
#   bin/irflow run recipes/listwise-dl19.hcl
#
# The defaults name the published checkpoints, which need a model hub; this
# project's machines have none, so they have not been run here and the
# recipe carries no expect on the re-rankers (the BM25 expect is Pyserini's
# published DL19 nDCG@10). cmd/irflow's TestListwiseDL19Recipe runs it end to
# end with tiny random models that the Python oracle builds (a 2-layer BERT
# Set-Encoder of depth 100 and a 2+3-layer T5), where the numbers mean
# nothing and the path is what is tested:
#
#   bin/irflow run recipes/listwise-dl19.hcl -var set_encoder=DIR -var monot5=DIR

variable "data" {
  type        = string
  default     = "../../shared/data/msmarco-passage"
  description = "The msmarco-passage collection directory (relative to this recipe)."
}

variable "set_encoder" {
  type        = string
  default     = "hf:webis/set-encoder-base"
  description = "A Lightning IR Set-Encoder (config.json model_type \"set-encoder\", depth ≥ 100): a directory or hf:org/name[@revision]."
}

variable "monot5" {
  type        = string
  default     = "hf:castorini/monot5-base-msmarco-10k"
  description = "A monoT5 checkpoint (T5ForConditionalGeneration): a directory or hf:org/name[@revision]."
}

collection "passages" {
  docs = "${var.data}/rerank/passages.tsv"
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

re_rank "set_encoder" {
  run     = collection.dl19.bm25
  queries = collection.dl19.queries
  docs    = collection.passages.docs
  model   = var.set_encoder
  depth   = 100 # one listwise pass per query over all 100 candidates
}

re_rank "monot5" {
  run     = collection.dl19.bm25
  queries = collection.dl19.queries
  docs    = collection.passages.docs
  model   = var.monot5
  head    = "mono" # castorini's checkpoint: the "true"/"false" rows of the shared embeddings
  depth   = 100
}

evaluate "bm25" {
  run     = collection.dl19.bm25
  qrels   = collection.dl19.qrels
  metrics = ["nDCG@10", "RR(rel=2)@10"]
  expect  = { "nDCG@10" = "~= 0.5058" } # Pyserini's published BM25 DL19
}

evaluate "set_encoder" {
  run     = re_rank.set_encoder.run
  qrels   = collection.dl19.qrels
  metrics = ["nDCG@10", "RR(rel=2)@10"]
}

evaluate "monot5" {
  run     = re_rank.monot5.run
  qrels   = collection.dl19.qrels
  metrics = ["nDCG@10", "RR(rel=2)@10"]
}

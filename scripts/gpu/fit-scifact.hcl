# gpu-check's training part (scripts/gpu-check.sh device): a few `fit`
# steps of splade-tiny on the chosen device with BM25 hard negatives, and
# validation (re-ranking BM25's top val_depth of the test claims) on the
# same device — recipes/splade.hcl's fine-tuning, cut to `steps` steps.
#
#   irflow run -var data=DIR -var model=DIR -var device=cuda -var steps=20 scripts/gpu/fit-scifact.hcl

variable "data" {
  type        = string
  description = "A folder holding corpus.jsonl.gz, queries[.train].tsv and qrels[.train].txt (BEIR SciFact)."
}

variable "model" {
  type = string
}

variable "device" {
  type    = string
  default = "cuda"
}

variable "steps" {
  type    = number
  default = 20
}

variable "batch_size" {
  type    = number
  default = 4
}

collection "train" {
  queries = "${var.data}/queries.train.tsv"
  qrels   = "${var.data}/qrels.train.txt"
}

collection "scifact" {
  docs    = "${var.data}/corpus.jsonl.gz"
  queries = "${var.data}/queries.tsv"
  qrels   = "${var.data}/qrels.txt"
}

index "bm25" {
  docs = collection.scifact.docs
}

search "bm25_train" {
  index   = index.bm25.index
  queries = collection.train.queries
  k       = 100
}

search "bm25_val" {
  index   = index.bm25.index
  queries = collection.scifact.queries
  k       = 20
}

fit "splade" {
  model                 = var.model
  head                  = "splade"
  head_options          = { query_length = "32", doc_length = "192" }
  device                = var.device
  train_run             = search.bm25_train.run
  train_queries         = collection.train.queries
  train_qrels           = collection.train.qrels
  docs                  = collection.scifact.docs
  depth                 = 100
  sampling_strategy     = "single_relevant"
  sample_size           = 4
  drop_without_relevant = true
  batch_size            = var.batch_size
  losses                = { InfoNCE = 1, FLOPSRegularization = 1 }
  loss_options          = { "FLOPSRegularization.query_weight" = "1e-4", "FLOPSRegularization.doc_weight" = "1e-4" }
  lr                    = 5e-5
  warmup_steps          = 1
  max_steps             = var.steps
  gradient_clip         = 1
  seed                  = 42
  validate_every        = var.steps
  val_run               = search.bm25_val.run
  val_queries           = collection.scifact.queries
  val_qrels             = collection.scifact.qrels
  val_depth             = 20
}

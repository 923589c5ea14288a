# gpu-check's index part (scripts/gpu-check.sh device): splade-tiny encodes
# SciFact on the chosen device, an impact index stores round(w × 100), and
# the 300 test claims are searched and evaluated. recipes/splade.hcl's base
# pipeline with the device as a variable; the script compares nDCG@10 with
# that recipe's oracle value (0.648143, transformers on the CPU): on a GPU
# the weights round differently, so it is reported, not asserted to 1e-4.
# The same index and search run again in bfloat16, whose nDCG@10 the script
# compares with the float32 one (the CPU dry run passes
# -var bf16=float32: bf16 is refused on CPUs, and that chain is then the
# float32 one, found in the cache).
#
#   irflow run -var data=DIR -var model=DIR -var device=cuda scripts/gpu/index-scifact.hcl

variable "data" {
  type        = string
  description = "A folder holding corpus.jsonl.gz, queries.tsv and qrels.txt (BEIR SciFact, test split)."
}

variable "model" {
  type        = string
  description = "splade-tiny's directory."
}

variable "device" {
  type    = string
  default = "cuda"
}

variable "bf16" {
  type    = string
  default = "bfloat16"
}

variable "batch_size" {
  type    = number
  default = 64
}

# The memory budget also bounds tokens per batch for the MLM head (its
# vocabulary-sized logits): the default 2048 MiB allows 1,466 tokens, under
# three 512-token documents, which starves a GPU; 16384 allows 11,730.
variable "memory_mb" {
  type    = number
  default = 16384
}

collection "scifact" {
  docs    = "${var.data}/corpus.jsonl.gz"
  queries = "${var.data}/queries.tsv"
  qrels   = "${var.data}/qrels.txt"
}

# One chain per precision: "fp32" is compared with the CPU oracle, "bf16"
# with "fp32".
locals {
  precisions = { fp32 = "float32", bf16 = var.bf16 }
}

index "splade" {
  for_each   = local.precisions
  method     = "sparse"
  docs       = collection.scifact.docs
  model      = var.model
  head       = "splade"
  device     = var.device
  precision  = each.value
  batch_size = var.batch_size
  memory_mb  = var.memory_mb
}

search "splade" {
  for_each  = local.precisions
  method    = "sparse"
  index     = index.splade[each.key].index
  queries   = collection.scifact.queries
  model     = var.model
  head      = "splade"
  device    = var.device
  precision = each.value
  k         = 1000
}

evaluate "splade" {
  for_each = local.precisions
  run      = search.splade[each.key].run
  qrels    = collection.scifact.qrels
  metrics  = ["nDCG@10", "RR@10", "R@100"]
}

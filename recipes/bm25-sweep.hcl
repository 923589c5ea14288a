# BM25 k1 × b sweep on Vaswani: one index, one search and one evaluation per
# setting (k1 and b are search-time parameters, so the index is shared).
# Ties: irflow's default trec_eval rule (exact scores; docs/bm25.md).
#
#   irflow run recipes/bm25-sweep.hcl -var 'k1s=[0.6,0.9,1.2,1.5]'

variable "k1s" {
  type    = list(number)
  default = [0.9, 1.2, 1.5]
}

variable "bs" {
  type    = list(number)
  default = [0.3, 0.4, 0.75]
}

locals {
  data = "../../shared/data/vaswani"
  grid = {
    for p in setproduct(var.k1s, var.bs) : "k1=${p[0]},b=${p[1]}" => { k1 = p[0], b = p[1] }
  }
}

collection "vaswani" {
  docs    = "${local.data}/corpus.jsonl"
  queries = "${local.data}/queries.tsv"
  qrels   = "${local.data}/qrels.txt"
  sha256 = {
    docs    = "6c4cd42df39a63e5c2f2b0382171f310029ec9c07aa90d3e11182271c532c139"
    queries = "d62e89fa683324574f5699dc7abba51969fc1e95fd656ee93461e33e51d3bf55"
    qrels   = "1b3ed6a43752c7a7becb0dbd1614d662791bb7825b60182fd36be24d480ea447"
  }
}

index "vaswani" {
  method = "bm25"
  docs   = collection.vaswani.docs
}

search "sweep" {
  for_each = local.grid
  method   = "bm25"
  index    = index.vaswani.index
  queries  = collection.vaswani.queries
  k        = 1000
  k1       = each.value.k1
  b        = each.value.b
}

evaluate "sweep" {
  for_each = local.grid
  run      = search.sweep[each.key].run
  qrels    = collection.vaswani.qrels
  metrics  = ["AP", "nDCG", "nDCG@10"]
  expect   = { "AP" = ">= 0.20" }
}

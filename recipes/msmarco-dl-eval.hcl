# Evaluates the bundled top-100 first-stage runs of four systems on TREC DL
# 2019 and 2020 (passage) and checks that each reproduces the nDCG@10
# Pyserini publishes for it (castorini/pyserini, pyserini/2cr/
# msmarco-v1-passage.yaml; see ../../shared/data/msmarco-passage/README.md).
# "~= 0.5058" holds when the measured value rounds to 0.5058: the published
# precision. It ends in the table a paper prints: the four systems on DL19
# and DL20 with paired t-tests against BM25 (Holm-corrected), as Markdown,
# LaTeX, CSV and HTML, with per-query difference and precision–recall plots.
#
#   irflow run recipes/msmarco-dl-eval.hcl
#   irflow report recipes/msmarco-dl-eval.hcl                 # the table again, from the cache
#   irflow report recipes/msmarco-dl-eval.hcl --format latex
#   irflow output recipes/msmarco-dl-eval.hcl report.dl.plots
#   irflow output recipes/msmarco-dl-eval.hcl 'evaluate.ndcg["bm25.dl19"].metrics'

variable "data" {
  type        = string
  default     = "../../shared/data/msmarco-passage"
  description = "The msmarco-passage collection directory (relative to this recipe)."
}

collection "dl19" {
  qrels  = "${var.data}/qrels.dl19.txt"
  sha256 = { qrels = "54dea8f531d6bfd93da8d3dd2f4f7a2609e2fb962835a000780ec60b1b819387" }
}

collection "dl20" {
  qrels  = "${var.data}/qrels.dl20.txt"
  sha256 = { qrels = "60d4c34561f9687f8f73e0a752ba80ab80159b3e9c1bedd0a351f747ed6f5684" }
}

collection "runs" {
  bm25_dl19         = "${var.data}/rerank/runs/bm25.dl19.top100.trec"
  bm25_dl20         = "${var.data}/rerank/runs/bm25.dl20.top100.trec"
  bm25_rm3_dl19     = "${var.data}/rerank/runs/bm25-rm3.dl19.top100.trec"
  bm25_rm3_dl20     = "${var.data}/rerank/runs/bm25-rm3.dl20.top100.trec"
  splade_pp_ed_dl19 = "${var.data}/rerank/runs/splade-pp-ed.dl19.top100.trec"
  splade_pp_ed_dl20 = "${var.data}/rerank/runs/splade-pp-ed.dl20.top100.trec"
  tasb_dl19         = "${var.data}/rerank/runs/tasb.dl19.top100.trec"
  tasb_dl20         = "${var.data}/rerank/runs/tasb.dl20.top100.trec"
  sha256 = {
    bm25_dl19         = "cbada2e4f710f8cafb8f1fd54e2289011b3273cdc044adb2380af21f63a6c861"
    bm25_dl20         = "fba5d55aa8335bd1c74f7860dee354e69986b627c640b34ba47e084e311c24d2"
    bm25_rm3_dl19     = "fd1b5b6358731eb82a42f240b27e2ec061b087a64dff8d61e9bc4f4e61175325"
    bm25_rm3_dl20     = "7d21a75df074dcaf7dd9ac7c45fea29c17c5a13a72381a6c1ba6ec9eed49f156"
    splade_pp_ed_dl19 = "5e09e4219740fd9b2a57637fccf6d00932c938c47a07b97ce0852c0b2596a4e1"
    splade_pp_ed_dl20 = "24062fcd8b8dfdf9f2710907c786541c870e8463d5dadea6b9e903821694918e"
    tasb_dl19         = "194ac7678312edbbd9aeb322e5b00fac63ecf081fccc2dd88e4c0dd2d8fc255e"
    tasb_dl20         = "cc4765e2c732caa704c8df0d5af06fe8e02992893e77c676f4f31b3d22d9b05f"
  }
}

locals {
  # Pyserini 2CR nDCG@10 (trec_eval -c -m ndcg_cut.10) with the default
  # BM25 (k1 = 0.9, b = 0.4).
  systems = {
    "bm25.dl19"         = { run = collection.runs.bm25_dl19, qrels = collection.dl19.qrels, ndcg10 = "0.5058" }
    "bm25.dl20"         = { run = collection.runs.bm25_dl20, qrels = collection.dl20.qrels, ndcg10 = "0.4796" }
    "bm25-rm3.dl19"     = { run = collection.runs.bm25_rm3_dl19, qrels = collection.dl19.qrels, ndcg10 = "0.5216" }
    "bm25-rm3.dl20"     = { run = collection.runs.bm25_rm3_dl20, qrels = collection.dl20.qrels, ndcg10 = "0.4896" }
    "splade-pp-ed.dl19" = { run = collection.runs.splade_pp_ed_dl19, qrels = collection.dl19.qrels, ndcg10 = "0.7308" }
    "splade-pp-ed.dl20" = { run = collection.runs.splade_pp_ed_dl20, qrels = collection.dl20.qrels, ndcg10 = "0.7197" }
    "tasb.dl19"         = { run = collection.runs.tasb_dl19, qrels = collection.dl19.qrels, ndcg10 = "0.7210" }
    "tasb.dl20"         = { run = collection.runs.tasb_dl20, qrels = collection.dl20.qrels, ndcg10 = "0.6854" }
  }
}

evaluate "ndcg" {
  for_each = local.systems
  run      = each.value.run
  qrels    = each.value.qrels
  metrics  = ["nDCG@10"]
  complete = true # trec_eval -c, as Pyserini (the runs hold every judged query, so the same numbers)
  expect   = { "nDCG@10" = "~= ${each.value.ndcg10}" }
}

# The table's rows (systems) and column groups (query sets), in print order.
locals {
  table = [
    { system = "BM25", group = "DL19", key = "bm25.dl19" },
    { system = "BM25", group = "DL20", key = "bm25.dl20" },
    { system = "BM25+RM3", group = "DL19", key = "bm25-rm3.dl19" },
    { system = "BM25+RM3", group = "DL20", key = "bm25-rm3.dl20" },
    { system = "TAS-B", group = "DL19", key = "tasb.dl19" },
    { system = "TAS-B", group = "DL20", key = "tasb.dl20" },
    { system = "SPLADE++ED", group = "DL19", key = "splade-pp-ed.dl19" },
    { system = "SPLADE++ED", group = "DL20", key = "splade-pp-ed.dl20" },
  ]
}

# Pyserini's DL tables: AP and R@1000 with relevance grade >= 2 (the runs
# here are top-100, so R@100), nDCG@10 with graded gains; trec_eval -c.
report "dl" {
  runs       = [for r in local.table : local.systems[r.key].run]
  names      = [for r in local.table : r.system]
  groups     = [for r in local.table : r.group]
  qrels      = [for r in local.table : local.systems[r.key].qrels]
  measures   = ["AP(rel=2)", "nDCG@10", "R(rel=2)@100"]
  baseline   = "BM25"
  test       = "t"
  correction = "holm"
  pr_rel     = 2
  expect = {
    "BM25/DL19/nDCG@10"       = "~= 0.5058"
    "SPLADE++ED/DL20/nDCG@10" = "~= 0.7197"
  }
}

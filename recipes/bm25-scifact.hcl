# BM25 on BEIR SciFact (test split), reproducing Pyserini's 2CR numbers with
# Lucene-identical scores: flat (title and text in one field) nDCG@10 0.6789
# and multifield (title and text as separate fields, boosts 1/1) 0.6647.
# Like Pyserini, hits whose id equals the query id are removed.
# Ties: "anserini" (docs/bm25.md): the runs are written as Anserini 1.5.0's
# SearchCollection writes them, byte for byte (scores rounded to 4 decimals,
# ties lowered by 1e-6), so the metrics are those of Anserini's own runs.
#
#   irflow run recipes/bm25-scifact.hcl
#   irflow output recipes/bm25-scifact.hcl search.bm25.run

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

index "flat" {
  method = "bm25"
  docs   = collection.scifact.docs
  fields = "flat"
}

index "multifield" {
  method = "bm25"
  docs   = collection.scifact.docs
  fields = "multifield"
}

search "bm25" {
  method       = "bm25"
  index        = index.flat.index
  queries      = collection.scifact.queries
  k            = 1000
  remove_query = true
  ties         = "anserini"
}

search "bm25_multifield" {
  method       = "bm25"
  index        = index.multifield.index
  queries      = collection.scifact.queries
  k            = 1000
  fields       = { contents = "1.0", title = "1.0" }
  remove_query = true
  ties         = "anserini"
}

evaluate "bm25" {
  run     = search.bm25.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "R@100", "R@1000"]
  expect  = { "nDCG@10" = "0.6789 ± 0.00005", "R@100" = "0.9253 ± 0.00005" } # Pyserini 2CR
}

evaluate "bm25_multifield" {
  run     = search.bm25_multifield.run
  qrels   = collection.scifact.qrels
  metrics = ["nDCG@10", "R@100", "R@1000"]
  expect  = { "nDCG@10" = "0.6647 ± 0.00005", "R@100" = "0.9076 ± 0.00005" } # Pyserini 2CR
}

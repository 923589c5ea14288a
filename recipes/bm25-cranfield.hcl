# BM25 (Lucene/Anserini defaults) on Cranfield 1400. No verified published
# BM25 figure exists for this collection (shared/data/cranfield/README.md),
# so the expectations are floors that catch a broken pipeline, not a
# reproduction. Two documents (471, 995) are empty; they are indexed with no
# terms and never retrieved, as in Lucene. Ties: irflow's default trec_eval
# rule (exact scores); with ties = "anserini" the run is Anserini's
# SearchCollection run of docs.tsv byte for byte (AP 0.2790 either way).

locals {
  data = "../../shared/data/cranfield"
}

collection "cranfield" {
  docs    = "${local.data}/docs.tsv"
  queries = "${local.data}/queries.tsv"
  qrels   = "${local.data}/qrels.txt"
  sha256 = {
    docs    = "85a2e5ab42567403fa6f1ee52317b569206903a67793511098331aae04aaf669"
    queries = "634566882dd9e5e50ea3183cb699be421bc7b3448c9b86f04e8ac9f141dbf814"
    qrels   = "fc314bf97f6d90c01977a730b27fb60a73e2053c8b46d8af9dc699fe4253cd66"
  }
}

index "cranfield" {
  method = "bm25"
  docs   = collection.cranfield.docs
}

search "bm25" {
  method  = "bm25"
  index   = index.cranfield.index
  queries = collection.cranfield.queries
  k       = 1000
}

evaluate "bm25" {
  run     = search.bm25.run
  qrels   = collection.cranfield.qrels
  metrics = ["AP", "nDCG@10", "R@100"]
  expect  = { "nDCG@10" = ">= 0.30" }
}

# want: 8:31 Unsupported attribute; Dataset "msmarco-passage/trec-dl-2019/judged" has no run "bm2"; its runs are: bm25, bm25-rm3, splade-pp-ed, tasb; Did you mean collection.dl19.runs.bm25?
# want: 15:30 Unsupported attribute; Dataset "adi" has no catalogued runs
collection "dl19" {
  dataset = "msmarco-passage/trec-dl-2019/judged"
}

evaluate "bm25" {
  run   = collection.dl19.runs.bm2
  qrels = collection.dl19.qrels
}

collection "adi" { dataset = "adi" }

evaluate "adi" {
  run   = collection.adi.runs.bm25
  qrels = collection.adi.qrels
}

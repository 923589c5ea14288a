# want: 9:13 Input of the wrong format; Argument "index" of search.dense takes index/dense
index "bm25" {
  docs = "../inputs/docs.tsv"
}

search "dense" {
  method  = "dense"
  model   = "../inputs/model"
  index   = index.bm25.index
  queries = "../inputs/queries.tsv"
}

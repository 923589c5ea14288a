# want: 13:13 Input of the wrong format; Argument "index" of search.second takes index/bm25 (a BM25 index made by index method bm25), but search.first.run is run/trec (a TREC run
index "i" {
  docs = "../inputs/docs.tsv"
}

search "first" {
  index   = index.i.index
  queries = "../inputs/queries.tsv"
}

# A run is not an index.
search "second" {
  index   = search.first.run
  queries = "../inputs/queries.tsv"
}

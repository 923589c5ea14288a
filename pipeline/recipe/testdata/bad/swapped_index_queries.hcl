# want: 13:13 Input of the wrong format; Argument "index" of search.s takes index/bm25; but collection.c.queries is queries; It fits "queries": are the two swapped?
# want: 14:13 Input of the wrong format; Argument "queries" of search.s takes queries; but index.i.index is index/bm25; It fits "index"
collection "c" {
  docs    = "../inputs/docs.tsv"
  queries = "../inputs/queries.tsv"
}

index "i" {
  docs = collection.c.docs
}

search "s" {
  index   = collection.c.queries
  queries = index.i.index
}

# want: 15:13 Invalid argument value; search.s: k = -5 is out of range: want integer > 0
collection "c" {
  docs    = "../inputs/docs.tsv"
  queries = "../inputs/queries.tsv"
}

index "i" {
  docs = collection.c.docs
}

search "s" {
  index   = index.i.index
  queries = collection.c.queries
  # Caught before the index is built, not after.
  k       = -5
}

# want: 16:13 Input of the wrong format; Argument "index" of search.splade takes index/sparse
index "dense" {
  method = "dense"
  docs   = "../inputs/docs.tsv"
  model  = "../inputs/model"
}

# A dense index searched as a sparse one: caught before any encoding.




search "splade" {
  method  = "sparse"
  model   = "../inputs/model"
  index   = index.dense.index
  queries = "../inputs/queries.tsv"
}

# want: 5:12 spalde
index "splade" {
  method = "sparse"
  docs   = "../inputs/docs.tsv"
  head   = "spalde"
  model  = "../inputs/model"
}

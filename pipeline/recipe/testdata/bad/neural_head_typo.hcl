# want: 5:12 Invalid argument value; "spalde" is not a valid head
index "splade" {
  method = "sparse"
  docs   = "../inputs/docs.tsv"
  head   = "spalde"
  model  = "../inputs/model"
}

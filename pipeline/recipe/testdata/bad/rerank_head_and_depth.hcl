# want: 7:13 Invalid argument value; re_rank.r: "colbert" is not a valid head: want one of "", "dpr", "col", "splade", "sentence-transformers", "mono"
# want: 8:13 Invalid argument value; re_rank.r: depth = 0 is out of range: want integer > 0
re_rank "r" {
  run     = "../inputs/run.trec"
  queries = "../inputs/queries.tsv"
  docs    = "../inputs/docs.tsv"
  head    = "colbert"
  depth   = 0
  model   = "../inputs/model"
}

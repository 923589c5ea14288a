# want: 5:41 Invalid argument value; search.s: fields["title"] = "high": a boost is a number ≥ 0
search "s" {
  index   = "../inputs"
  queries = "../inputs/queries.tsv"
  fields  = { contents = "1.0", title = "high" }
}

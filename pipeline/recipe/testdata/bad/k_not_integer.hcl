# want: 10:14 Invalid argument value; search.s["b"]: k = 2.5 is out of range: want integer > 0
index "i" {
  docs = "../inputs/docs.tsv"
}

search "s" {
  for_each = { a = 10, b = 2.5 }
  index    = index.i.index
  queries  = "../inputs/queries.tsv"
  k        = each.value
}

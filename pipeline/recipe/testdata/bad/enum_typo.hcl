# want: 4:12 Invalid argument value; index.i: "multifeild" is not a valid fields: want one of "flat", "multifield". Did you mean "multifield"?
index "i" {
  docs   = "../inputs/docs.tsv"
  fields = "multifeild"
}

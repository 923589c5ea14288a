# want: 5:3 Conflicting collection file; collection "adi" takes its qrels file from dataset "adi"; Remove the attribute
# A dataset provides docs, corpus, queries, qrels and runs; a file attribute may add other files, not replace one.
collection "adi" {
  dataset = "adi"
  qrels   = "../inputs/qrels.txt"
}

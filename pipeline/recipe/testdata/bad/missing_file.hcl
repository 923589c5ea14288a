# want: 3:11 Missing input file; collection.adi.qrels; no-such-dir/qrels.txt does not exist; relative paths are resolved against the recipe's directory
collection "adi" {
  qrels = "no-such-dir/qrels.txt"
}

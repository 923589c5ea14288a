# want: 4:13 Unknown dataset; There is no dataset "beir/scifact/trian" in the catalog; Did you mean "beir/scifact/train"?; irflow datasets list
# A typo in a catalogued dataset id; references to its files are not reported again.
collection "train" {
  dataset = "beir/scifact/trian"
}

test_score "s" {
  input = collection.train.qrels
}

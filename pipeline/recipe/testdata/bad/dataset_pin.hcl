# want: 5:15 Pin of a dataset file; collection.adi.qrels comes from dataset "adi", which the catalog pins already
# The catalog pins every file of a dataset; the recipe pins only files of its own.
collection "adi" {
  dataset = "adi"
  sha256  = { qrels = "b2b569545f9a7067de6071e4a84d18d0ff3bc29bfe6b343deffb72ae2152aa43" }
}

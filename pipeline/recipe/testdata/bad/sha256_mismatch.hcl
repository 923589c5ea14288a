# want: 5:13 Input does not match its pin; collection.adi.qrels; has sha256 b2b569545f9a7067de6071e4a84d18d0ff3bc29bfe6b343deffb72ae2152aa43, but the recipe pins 1aa85956a96f23e6d1d97cbd75902179e0f3e9d1fdf4f8a0ff74226670907571
collection "adi" {
  qrels = "../../../../../shared/data/adi/qrels.txt"
  sha256 = {
    qrels = "1aa85956a96f23e6d1d97cbd75902179e0f3e9d1fdf4f8a0ff74226670907571"
  }
}

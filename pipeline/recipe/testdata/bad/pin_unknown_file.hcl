# want: 4:14 Pin of an unknown file; has no file "smal" to pin; Did you mean "small"?
collection "c" {
  small  = "../inputs/small.txt"
  sha256 = { smal = "1aa85956a96f23e6d1d97cbd75902179e0f3e9d1fdf4f8a0ff74226670907571" }
}

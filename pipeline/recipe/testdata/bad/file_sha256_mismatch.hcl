# want: 4:12 Input does not match its pin; file.small.path; has sha256 1aa85956a96f23e6d1d97cbd75902179e0f3e9d1fdf4f8a0ff74226670907571
file "small" {
  path   = "../inputs/small.txt"
  sha256 = "b2b569545f9a7067de6071e4a84d18d0ff3bc29bfe6b343deffb72ae2152aa43"
}

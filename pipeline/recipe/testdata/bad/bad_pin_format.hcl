# want: 4:22 Invalid sha256 pin; must be 64 hex digits
collection "c" {
  small  = "../inputs/small.txt"
  sha256 = { small = "1aa859" }
}

# want: 3:14 Invalid for_each argument; for_each must be a map, or a set or list of strings, not number
test_write "w" {
  for_each = 3
  seed     = "x"
}

# want: 3:14 Invalid for_each argument; The key "a" occurs twice
test_write "w" {
  for_each = ["a", "b", "a"]
  seed     = each.value
}

# want: 7:14 Invalid for_each argument; for_each cannot use stage outputs such as test_write.a.data
test_write "a" {
  seed = "x"
}

test_split "s" {
  for_each = toset([test_write.a.data])
  input    = each.value
}

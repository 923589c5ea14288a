# want: 8:25 Missing instance key; test_write.w uses for_each, so a reference must pick one instance
test_write "w" {
  for_each = toset(["a", "b"])
  seed     = each.key
}

test_concat "c" {
  inputs = [test_write.w.data]
}

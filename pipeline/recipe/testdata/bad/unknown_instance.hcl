# want: 8:25 Reference to undeclared instance; test_write.w has no instance ["c"]; its instances are ["a"], ["b"]
test_write "w" {
  for_each = toset(["a", "b"])
  seed     = each.key
}

test_concat "c" {
  inputs = [test_write.w["c"].data]
}

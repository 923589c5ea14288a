# want: 14:36 Unsupported output; has no output "dat"
test_write "w" {
  for_each = toset(["a", "b"])
  seed     = each.key
}

test_split "s" {
  for_each = toset(["a", "b"])
  input    = test_write.w[each.key].data
}

test_score "x" {
  for_each = toset(["a", "b"])
  input    = test_write.w[each.key].dat
}

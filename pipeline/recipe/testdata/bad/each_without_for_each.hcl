# want: 3:10 Invalid reference; each.key and each.value are available only inside a stage block with for_each
test_write "a" {
  seed = each.key
}

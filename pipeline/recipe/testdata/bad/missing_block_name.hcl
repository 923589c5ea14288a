# want: 2:12 Missing name for test_write; All test_write blocks must have 1 labels (name)
test_write {
  seed = "x"
}

# want: 6:1 Duplicate test_write block; A test_write block named "a" is already declared at
test_write "a" {
  seed = "x"
}

test_write "a" {
  seed = "y"
}

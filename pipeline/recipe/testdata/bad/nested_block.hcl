# want: 4:3 Unsupported block type; Blocks of type "options" are not expected here
test_write "a" {
  seed = "x"
  options {
    fast = true
  }
}

# want: 2:16 Unclosed configuration block; There is no closing brace for this block
test_write "a" {
  seed = "x"

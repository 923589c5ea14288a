# want: 3:10 Invalid expression; Expected the start of an expression
test_write "a" {
  seed = 
}

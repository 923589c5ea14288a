# want: 7:42 Reference to undeclared stage; No test_write block named "b" is declared. Did you mean test_write.a?
test_write "a" {
  seed = "x"
}

test_concat "c" {
  inputs = [test_write.a.data, test_write.b.data]
}

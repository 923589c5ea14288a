# want: 7:11 Stage output changed by an expression; test_write.a.data names a file that exists only once its stage has run
test_write "a" {
  seed = "x"
}

test_score "s" {
  input = "${test_write.a.data}.gz"
}

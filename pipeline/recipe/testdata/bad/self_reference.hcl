# want: 7:32 Reference cycle; test_concat.a refers to its own output
test_write "w" {
  seed = "x"
}

test_concat "a" {
  inputs = [test_write.w.data, test_concat.a.data]
}

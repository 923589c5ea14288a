# want: 7:25 Unexpected instance key; test_write.a has no for_each
test_write "a" {
  seed = "x"
}

test_concat "c" {
  inputs = [test_write.a["k"].data]
}

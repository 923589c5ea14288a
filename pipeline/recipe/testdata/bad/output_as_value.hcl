# want: 7:10 Stage output used as a value; test_write.a.data is the path of a stage output; "seed" is of type string
test_write "a" {
  seed = "x"
}

test_write "b" {
  seed = test_write.a.data
}

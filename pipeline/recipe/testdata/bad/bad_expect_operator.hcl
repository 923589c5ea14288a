# want: 8:26 Invalid expectation; "=> 0.5" for mean_byte: no known operator
file "small" {
  path = "../inputs/small.txt"
}

test_score "s" {
  input  = file.small.path
  expect = { mean_byte = "=> 0.5" }
}

# want: 8:12 Incorrect attribute value type; expect is a map from metric name to condition
file "small" {
  path = "../inputs/small.txt"
}

test_score "s" {
  input  = file.small.path
  expect = [">= 0.5"]
}

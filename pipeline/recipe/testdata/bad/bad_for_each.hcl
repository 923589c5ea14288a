# want: 4:14 Invalid for_each argument; element 0 is tuple; setproduct
# A setproduct is a list of tuples: it must become a map first.
test_write "w" {
  for_each = setproduct(["a", "b"], [1, 2])
  seed     = "x"
}

# want: 3:12 Unknown method; There is no test_write method "tset". Registered methods: test. Did you mean "test"?
test_write "a" {
  method = "tset"
  seed   = "x"
}

# want: 2:1 Unsupported block type; Did you mean "test_write"?
test_wirte "a" {
  seed = "x"
}

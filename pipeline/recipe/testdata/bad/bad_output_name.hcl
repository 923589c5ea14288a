# want: 7:25 Unsupported output; has no output "dta"; its outputs are: data. Did you mean "data"?
test_write "a" {
  seed = "x"
}

test_concat "c" {
  inputs = [test_write.a.dta]
}

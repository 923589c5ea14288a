# want: 3:13 Reference cycle; test_concat.a → test_concat.b → test_concat.c → test_concat.a
test_concat "a" {
  inputs = [test_concat.b.data]
}

test_concat "b" {
  inputs = [test_concat.c.data]
}

test_concat "c" {
  inputs = [test_concat.a.data]
}

# want: 7:23 Unsupported attribute; collection.c has no file "smal"; Did you mean collection.c.small?
collection "c" {
  small = "../inputs/small.txt"
}

test_score "s" {
  input = collection.c.smal
}

# want: 3:10 Unknown reference; There is no "colection" in this recipe; Did you mean "collection"?
test_write "a" {
  seed = colection.c.x
}

# want: 8:15 Reference to undeclared variable; No variable named "chunk" is declared. Did you mean var.chunks?
variable "chunks" {
  default = 4
}

test_write "a" {
  seed   = "x"
  chunks = var.chunk
}

# args: -var chunk=8
# want: -:- Value for undeclared variable; declares no variable "chunk". Did you mean "chunks"?
variable "chunks" {
  default = 4
}

test_write "a" {
  seed   = "x"
  chunks = var.chunks
}

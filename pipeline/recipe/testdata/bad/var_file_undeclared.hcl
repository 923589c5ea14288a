# args: -var-file var_file_undeclared.vars
# want: var_file_undeclared.vars:1:1 Undeclared variable; sets "chunk"; Did you mean "chunks"?
variable "chunks" {
  type    = number
  default = 4
}

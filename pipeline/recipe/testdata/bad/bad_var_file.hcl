# args: -var-file bad_var_file.vars
# want: bad_var_file.vars:2:10 Invalid value for variable; variable "chunks" is of type number
variable "chunks" {
  type    = number
  default = 4
}

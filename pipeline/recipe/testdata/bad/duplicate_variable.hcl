# want: 3:1 Duplicate variable declaration; A variable named "k" is already declared
variable "k" { default = 1 }
variable "k" { default = 2 }

# want: 3:3 Reference cycle; local.a → local.b → local.a
locals {
  a = local.b
  b = local.a
}

# attacks: three locals in a cycle
locals {
  a = local.b
  b = local.c
  c = local.a
}
service "api" {
  image = "api:1"
  env = { A = local.a }
}

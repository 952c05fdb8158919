# attacks: a local that refers to itself
locals {
  a = "${local.a}x"
}
service "api" {
  image = "api:1"
  env = { A = local.a }
}

# attacks: replace of the empty string in a long string
locals {
  a = join("", [for i in range(1024) : "0123456789abcdef"])
  b = replace(local.a, "", local.a)
}
service "api" {
  image = "api:1"
  env = { A = local.b }
}

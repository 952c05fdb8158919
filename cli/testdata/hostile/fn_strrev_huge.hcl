# attacks: strrev of a doubled string
locals {
  a = join("", [for i in range(1024) : "0123456789abcdef"])
  b = join("", [for i in range(1024) : local.a])
}
service "api" {
  image = "api:1"
  env = { A = strrev(local.b) }
}

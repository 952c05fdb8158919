# attacks: join of a for over range(1024), nested three deep
locals {
  a = join("", [for i in range(1024) : "0123456789abcdef"])
  b = join("", [for i in range(1024) : local.a])
  c = join("", [for i in range(1024) : local.b])
}
service "api" {
  image = "api:1"
  env = { A = local.c }
}

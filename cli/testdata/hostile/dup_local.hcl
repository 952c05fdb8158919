# attacks: one local defined in two locals blocks
locals {
  a = 1
}
locals {
  a = 2
}
service "api" {
  image = "api:1"
}

# attacks: a variable default that refers to itself
variable "a" {
  default = var.a
}
service "api" {
  image = "api:1"
}

# attacks: a variable default that refers to another variable
variable "a" {
  default = "x"
}
variable "b" {
  default = var.a
}
service "api" {
  image = "api:1"
}

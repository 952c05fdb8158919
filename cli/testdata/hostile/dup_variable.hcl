# attacks: two variables with one name
variable "tag" {
  default = "a"
}
variable "tag" {
  default = "b"
}
service "api" {
  image = "api:1"
}

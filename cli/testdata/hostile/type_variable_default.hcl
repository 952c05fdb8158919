# attacks: a variable default that does not match its type
variable "port" {
  type    = number
  default = "eighty"
}
service "api" {
  image = "api:1"
}

# attacks: a string variable used as a port number
variable "p" {
  default = "http"
}
service "api" {
  image = "api:1"
  ports = { http = var.p }
}

# attacks: a negative port number
service "api" {
  image = "api:1"
  ports = { http = -80 }
}

# attacks: a port number with a fraction
service "api" {
  image = "api:1"
  ports = { http = 8080.5 }
}

# attacks: a port number beyond float64 (1e400)
service "api" {
  image = "api:1"
  ports = { http = 1e400 }
}

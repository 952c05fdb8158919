# attacks: port zero
service "api" {
  image = "api:1"
  ports = { http = 0 }
}

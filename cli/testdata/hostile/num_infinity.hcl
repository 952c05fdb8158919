# attacks: a port computed as infinity (1/0)
service "api" {
  image = "api:1"
  ports = { http = 1 / 0 }
}

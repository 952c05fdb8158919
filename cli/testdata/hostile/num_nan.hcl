# attacks: a port computed from 0/0
service "api" {
  image = "api:1"
  ports = { http = 0 / 0 }
}

# attacks: one port name twice in the ports map
service "api" {
  image = "api:1"
  ports = { http = 80, http = 81 }
}

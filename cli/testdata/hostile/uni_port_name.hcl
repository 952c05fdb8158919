# attacks: a port name with a Greek omicron
service "api" {
  image = "api:1"
  ports = { "httοp" = 80 }
}

# attacks: invalid UTF-8 in a service name
service "a√(pi" {
  image = "api:1"
}

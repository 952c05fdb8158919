# attacks: a service name with a combining acute accent
service "ápi" {
  image = "api:1"
}

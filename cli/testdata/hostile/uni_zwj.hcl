# attacks: a service name with a zero-width joiner inside
service "a‍pi" {
  image = "api:1"
}

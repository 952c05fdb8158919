# attacks: a service name with a Cyrillic а that looks like a Latin a
service "аpi" {
  image = "api:1"
}

# attacks: environment.ttl given a bool
environment {
  ttl = true
}
service "api" {
  image = "api:1"
}

# attacks: a service that depends on itself
service "api" {
  image = "api:1"
  depends_on = [service.api]
}

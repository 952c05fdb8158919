# attacks: a dependency on a service that does not exist (a typo)
service "api" {
  image = "api:1"
  depends_on = [service.dbb]
}
service "db" {
  image = "db:1"
}

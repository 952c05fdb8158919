# attacks: depends_on given one reference, not a list
service "api" {
  image = "api:1"
  depends_on = service.db
}
service "db" {
  image = "db:1"
}

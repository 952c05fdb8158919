# attacks: a service address used where it cannot be known
service "api" {
  image = "api:${service.db.host}"
}
service "db" {
  image = "db:1"
}

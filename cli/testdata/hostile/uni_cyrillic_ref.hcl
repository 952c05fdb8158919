# attacks: a reference to a look-alike service name
service "api" {
  image = "api:1"
  env = { DB = service.ԁb.host }
}
service "db" {
  image = "db:1"
}

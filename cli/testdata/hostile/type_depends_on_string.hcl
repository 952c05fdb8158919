# attacks: depends_on given service names as strings
service "api" {
  image = "api:1"
  depends_on = ["db"]
}
service "db" {
  image = "db:1"
}

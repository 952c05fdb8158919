# attacks: two services with one name
service "api" {
  image = "api:1"
}
service "api" {
  image = "api:2"
}

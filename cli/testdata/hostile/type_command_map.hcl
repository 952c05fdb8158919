# attacks: command given a map
service "api" {
  image = "api:1"
  command = { a = "serve" }
}

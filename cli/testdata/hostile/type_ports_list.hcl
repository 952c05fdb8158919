# attacks: ports given a list, not a map
service "api" {
  image = "api:1"
  ports = [8080]
}

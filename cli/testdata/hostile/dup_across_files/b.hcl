service "api" {
  image = "api:2"
}

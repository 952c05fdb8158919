# attacks: entrypoint given a bool
service "api" {
  image = "api:1"
  entrypoint = true
}

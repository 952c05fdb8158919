# attacks: run given a bool
service "api" {
  image = "api:1"
  run = true
}

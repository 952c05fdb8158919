# attacks: env given a list, not a map
service "api" {
  image = "api:1"
  env = ["A=1"]
}

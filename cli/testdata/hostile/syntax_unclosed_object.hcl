# attacks: an object whose closing brace never comes
service "api" {
  image = "api:1"
  env = { A = "1"

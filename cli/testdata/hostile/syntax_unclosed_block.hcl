# attacks: a block whose closing brace never comes
service "api" {
  image = "api:1"

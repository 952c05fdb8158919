# attacks: jsondecode of invalid JSON
service "api" {
  image = "api:1"
  env = { A = jsondecode("{") }
}

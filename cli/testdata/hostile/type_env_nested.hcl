# attacks: an env value that is a list
service "api" {
  image = "api:1"
  env = { A = ["1"] }
}

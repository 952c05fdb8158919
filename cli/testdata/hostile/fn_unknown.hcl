# attacks: a call to a function that does not exist
service "api" {
  image = "api:1"
  env = { A = uuid() }
}

# attacks: file() of a directory
service "api" {
  image = "api:1"
  env = { A = file(".") }
}

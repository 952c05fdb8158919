# attacks: a regular expression with an absurd repeat count
service "api" {
  image = "api:1"
  env = { A = regex("a{1001}", "a") }
}

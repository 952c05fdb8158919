# attacks: a build arg that is an object
service "api" {
  build {
    context = "."
    args    = { A = { b = 1 } }
  }
}

# attacks: two build blocks in one service
service "api" {
  build {
    context = "."
  }
  build {
    context = "."
  }
}

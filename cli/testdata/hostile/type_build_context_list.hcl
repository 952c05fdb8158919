# attacks: build.context given a list
service "api" {
  build {
    context = ["./api"]
  }
}

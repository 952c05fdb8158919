# attacks: resources.memory given a list
service "api" {
  image = "api:1"
  resources {
    memory = ["256MiB"]
  }
}

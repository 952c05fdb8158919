# attacks: resources.cpus of 1e400
service "api" {
  image = "api:1"
  resources {
    cpus = 1e400
  }
}

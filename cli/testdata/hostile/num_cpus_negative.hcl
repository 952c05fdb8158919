# attacks: negative resources.cpus
service "api" {
  image = "api:1"
  resources {
    cpus = -1
  }
}

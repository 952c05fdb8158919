# attacks: two resources blocks in one service
service "api" {
  image = "api:1"
  resources {
    cpus = 1
  }
  resources {
    cpus = 2
  }
}

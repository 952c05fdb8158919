# attacks: resources.cpus given a word
service "api" {
  image = "api:1"
  resources {
    cpus = "half"
  }
}

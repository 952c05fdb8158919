# attacks: a port number given as a word
service "api" {
  image = "api:1"
  ports = { http = "eighty" }
}

# attacks: a UTF-8 byte order mark before the first token
service "api" {
  image = "api:1"
  ports = 1
}

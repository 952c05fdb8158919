# attacks: a character that starts no token
service "api" {
  image = "api:1" @
}

# attacks: an unknown escape sequence in a string
service "api" {
  image = "api\q1"
}

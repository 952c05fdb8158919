# attacks: invalid UTF-8 in a string
service "api" {
  image = "apiÿþ:1"
}

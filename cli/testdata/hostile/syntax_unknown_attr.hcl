# attacks: a misspelt attribute name
service "api" {
  imgae = "api:1"
}

# attacks: an attribute without its equals sign
service "api" {
  image "api:1"
}

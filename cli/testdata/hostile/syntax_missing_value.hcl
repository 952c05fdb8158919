# attacks: an attribute with an equals sign but no value
service "api" {
  image =
}

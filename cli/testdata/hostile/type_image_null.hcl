# attacks: image given null
service "api" {
  image = null
}

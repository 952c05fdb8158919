# attacks: image given an object, not a string
service "api" {
  image = { name = "api" }
}

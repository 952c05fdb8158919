# attacks: image given a list, not a string
service "api" {
  image = ["api:1"]
}

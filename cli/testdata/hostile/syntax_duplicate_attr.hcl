# attacks: one attribute set twice in a block
service "api" {
  image = "api:1"
  image = "api:2"
}

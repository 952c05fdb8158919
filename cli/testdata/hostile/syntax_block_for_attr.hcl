# attacks: a block where an attribute is expected
service "api" {
  image {
    name = "api:1"
  }
}

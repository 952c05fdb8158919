# attacks: an attribute where a block is expected
service "api" {
  image = "api:1"
  ready = { tcp = "http" }
}

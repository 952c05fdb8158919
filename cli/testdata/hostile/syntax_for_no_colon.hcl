# attacks: a for expression without its colon
service "api" {
  image   = "api:1"
  command = [for s in ["a"] s]
}

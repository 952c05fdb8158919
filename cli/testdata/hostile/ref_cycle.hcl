# attacks: three services in a cycle
service "a" {
  image = "x"
  depends_on = [service.b]
}
service "b" {
  image = "x"
  env = { C = service.c.host }
}
service "c" {
  image = "x"
  depends_on = [service.a]
}

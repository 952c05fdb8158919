# attacks: a list whose closing bracket never comes
service "api" {
  image   = "api:1"
  command = ["serve", "--port"
}

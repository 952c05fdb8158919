# attacks: range(1e9), a billion-element list
service "api" {
  image = "api:1"
  command = [for i in range(1e9) : tostring(i)]
}

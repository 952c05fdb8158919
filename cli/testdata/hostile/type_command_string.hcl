# attacks: command given a string, not a list (a shell line)
service "api" {
  image = "api:1"
  command = "serve --port 80"
}

# attacks: a conditional without its false branch
service "api" {
  image = true ? "api:1"
}

# attacks: two environment blocks
environment {
  name = "a"
}
environment {
  name = "b"
}
service "api" {
  image = "api:1"
}

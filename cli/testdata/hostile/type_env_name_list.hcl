# attacks: environment.name given a list
environment {
  name = ["shop"]
}
service "api" {
  image = "api:1"
}

# attacks: an environment name with an emoji
environment {
  name = "shop🛒"
}
service "api" {
  image = "api:1"
}

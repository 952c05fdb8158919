# attacks: a directory named like an environment file inside a -f directory
service "api" {
  image = "api:1"
}

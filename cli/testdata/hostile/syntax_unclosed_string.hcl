# attacks: a quoted string that is never closed
service "api" {
  image = "api:1
}

# attacks: a /* comment that is never closed
service "api" {
  image = "api:1"
  /* ports = { http = 80 }
}

# attacks: a negative ready timeout
service "api" {
  image = "api:1"
  ports = { http = 80 }
  ready {
    tcp     = "http"
    timeout = "-5s"
  }
}

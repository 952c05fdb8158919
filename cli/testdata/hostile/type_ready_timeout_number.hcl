# attacks: ready.timeout given a bare number
service "api" {
  image = "api:1"
  ports = { http = 80 }
  ready {
    tcp     = "http"
    timeout = 60
  }
}

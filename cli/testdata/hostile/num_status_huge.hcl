# attacks: an HTTP status of 1e10
service "api" {
  image = "api:1"
  ports = { http = 80 }
  ready {
    http {
      port   = "http"
      status = 1e10
    }
  }
}

# attacks: two http blocks in one ready block
service "api" {
  image = "api:1"
  ports = { http = 80 }
  ready {
    http {
      port = "http"
    }
    http {
      port = "http"
    }
  }
}

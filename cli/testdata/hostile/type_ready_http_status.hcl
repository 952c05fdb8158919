# attacks: ready.http.status given a word
service "api" {
  image = "api:1"
  ports = { http = 80 }
  ready {
    http {
      port   = "http"
      status = "ok"
    }
  }
}

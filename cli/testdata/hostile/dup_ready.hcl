# attacks: two ready blocks in one service
service "api" {
  image = "api:1"
  ports = { http = 80 }
  ready {
    tcp = "http"
  }
  ready {
    tcp = "http"
  }
}

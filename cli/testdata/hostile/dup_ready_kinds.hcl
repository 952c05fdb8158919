# attacks: a ready block with three probe kinds at once
service "api" {
  image = "api:1"
  ports = { http = 80 }
  ready {
    tcp  = "http"
    exec = ["true"]
    log  = "up"
  }
}

# An exact status: 200 is not the 204 asked for, so the service never gets ready.
variable "img" {}
service "wrongstatus" {
  image   = var.img
  command = ["--http", "8080", "--health-status", "200"]
  ports   = { web = 8080 }
  ready {
    http {
      port   = "web"
      path   = "/healthz"
      status = 204
    }
    timeout = "20s"
  }
}

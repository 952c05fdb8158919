# Imported from health_chain.yml by envctl import compose.

environment {
  name = "testdata"
}

variable "IMAGE" {
  type        = string
  default     = "example/chain:1"
  description = "Compose variable IMAGE of health_chain.yml"
}

service "store" {
  image   = var.IMAGE
  command = ["--http", "7000", "--delay", "300ms"]
  ready {
    exec     = ["/testsvc", "probe", "http", "http://127.0.0.1:7000/healthz"]
    interval = "500ms"
    timeout  = "20s"
  }
}

service "auth" {
  image      = var.IMAGE
  command    = ["--http", "7001", "--call", "http://store:7000/"]
  depends_on = [service.store]
  ready {
    exec     = ["/testsvc", "probe", "http", "http://127.0.0.1:7001/healthz"]
    interval = "1s"
    timeout  = "20s"
  }
}

service "api" {
  image      = var.IMAGE
  command    = ["--http", "8080", "--call", "http://auth:7001/"]
  depends_on = [service.auth, service.store]
  ready {
    exec            = ["/testsvc", "probe", "http", "http://127.0.0.1:8080/healthz"]
    interval        = "1s"
    timeout         = "20s"
    attempt_timeout = "2s"
  }
}

service "gateway" {
  # envctl: ports: host side of 127.0.0.1:8088:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  # envctl: depends_on api: restart is not supported; dropped
  image      = var.IMAGE
  command    = ["--http", "80", "--call", "http://api:8080/"]
  depends_on = [service.api]
  ports = {
    http = 80
  }
}

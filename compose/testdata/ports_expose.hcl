# Imported from ports_expose.yml by envctl import compose.

environment {
  name = "testdata"
}

variable "IMAGE" {
  type        = string
  default     = "nginx:1.27"
  description = "Compose variable IMAGE of ports_expose.yml"
}

service "edge" {
  # envctl: ports: host side of 8443:8443 dropped; envctl publishes container port 8443 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 0.0.0.0:9000-9001:9000-9001 dropped; envctl publishes container ports 9000-9001 on ephemeral host ports (envctl env shows them)
  # envctl: ports: 53:53/udp is udp; envctl ports are TCP; dropped
  # envctl: ports: published 19090 dropped; envctl publishes on an ephemeral host port (envctl env shows it)
  image   = var.IMAGE
  command = ["--http", "80", "--http", "8443", "--tcp", "9000", "--tcp", "9001", "--http", "9090"]
  ports = {
    http    = 80
    https   = 8443
    p9000   = 9000
    p9001   = 9001
    metrics = 9090
  }
}

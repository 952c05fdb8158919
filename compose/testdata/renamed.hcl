# Imported from renamed.yml by envctl import compose.

environment {
  name = "testdata"
}

variable "IMAGE" {
  type        = string
  default     = ""
  description = "Compose variable IMAGE of renamed.yml"
}

service "backend-api" {
  # envctl: renamed to backend-api: envctl service names are DNS-safe (lowercase letters, digits, "-"); services that reach it by the host name Backend_API must use backend-api
  image   = var.IMAGE != "" ? var.IMAGE : "example/backend"
  command = ["--http", "8080"]
}

service "web-frontend" {
  # envctl: renamed to web-frontend: envctl service names are DNS-safe (lowercase letters, digits, "-"); services that reach it by the host name web.frontend must use web-frontend
  # envctl: links: alias api of Backend_API is not supported; dropped (kept as a dependency)
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  image      = var.IMAGE != "" ? var.IMAGE : "example/frontend"
  command    = ["--http", "3000", "--call", "http://backend-api:8080/"]
  depends_on = [service.backend-api]
  ports = {
    http = 3000
  }
}

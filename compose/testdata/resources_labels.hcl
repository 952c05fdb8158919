# Imported from resources_labels.yml by envctl import compose.
# envctl: project name Billing_Stack becomes billing-stack: envctl environment names are DNS-safe

environment {
  name = "billing-stack"
}

variable "IMAGE" {
  type        = string
  default     = "example/billing:3"
  description = "Compose variable IMAGE of resources_labels.yml"
}

variable "INVOICER_IMAGE" {
  type        = string
  default     = "example/invoicer:3"
  description = "Compose variable INVOICER_IMAGE of resources_labels.yml"
}

service "api" {
  # envctl: deploy.resources.limits.pids is not supported; dropped
  # envctl: deploy.resources.reservations are not supported; dropped (envctl sets limits, not reservations)
  # envctl: deploy.restart_policy is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image   = var.IMAGE
  command = ["--http", "8080"]
  labels = {
    "traefik.enable"                = "true"
    "traefik.http.routers.api.rule" = "Host(`billing.localhost`)"
  }
  resources {
    cpus   = 1.5
    memory = "1GiB"
  }
}

service "invoicer" {
  image   = var.INVOICER_IMAGE
  command = ["--tcp", "9100"]
  ports = {
    p9100 = 9100
  }
  labels = {
    "com.example.empty" = ""
    "com.example.role"  = "batch"
  }
  resources {
    cpus   = 0.5
    memory = "128MiB"
  }
}

# Imported from unsupported.yml by envctl import compose.
# envctl: top-level volumes are not supported; dropped (pgdata)
# envctl: top-level networks are not supported; dropped (backend, frontend)
# envctl: top-level secrets are not supported; dropped (db_password)
# envctl: top-level configs are not supported; dropped (admin_config)

environment {
  name = "testdata"
}

variable "ADMIN_IMAGE" {
  type        = string
  default     = "adminer:4"
  description = "Compose variable ADMIN_IMAGE of unsupported.yml"
}

variable "IMAGE" {
  type        = string
  default     = "postgres:16"
  description = "Compose variable IMAGE of unsupported.yml"
}

service "db" {
  # envctl: container_name is not supported; dropped (envctl names containers ENVIRONMENT-SERVICE)
  # envctl: restart is not supported; dropped (envctl does not restart services)
  # envctl: volumes are not supported; dropped
  # envctl: networks are not supported; dropped
  # envctl: secrets are not supported; dropped
  # envctl: ulimits are not supported; dropped
  # envctl: ports: host side of 5432:5432 dropped; envctl publishes container port 5432 on an ephemeral host port (envctl env shows them)
  # envctl: ports: 5432:5432/udp is udp; envctl ports are TCP; dropped
  image   = var.IMAGE
  command = ["--tcp", "5432"]
  ports = {
    p5432 = 5432
  }
}

service "admin" {
  # envctl: profiles are not supported; dropped
  # envctl: configs are not supported; dropped
  # envctl: env_file is not supported; dropped (copy its variables into environment)
  # envctl: networks are not supported; dropped
  # envctl: working_dir is not supported; dropped
  # envctl: user is not supported; dropped
  image      = var.ADMIN_IMAGE
  command    = ["--http", "8080"]
  depends_on = [service.db]
}

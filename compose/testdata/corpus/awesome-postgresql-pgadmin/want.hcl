# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-postgresql-pgadmin"
}

variable "PGADMIN_MAIL" {
  type        = string
  default     = "your@email.com"
  description = "Compose variable PGADMIN_MAIL of compose.yaml"
}

variable "PGADMIN_PW" {
  type        = string
  description = "Compose variable PGADMIN_PW of compose.yaml; its value is in .env, not copied here because it is sensitive"
  sensitive   = true
}

variable "POSTGRES_DB" {
  type        = string
  default     = "postgres"
  description = "Compose variable POSTGRES_DB of compose.yaml"
}

variable "POSTGRES_PW" {
  type        = string
  description = "Compose variable POSTGRES_PW of compose.yaml; its value is in .env, not copied here because it is sensitive"
  sensitive   = true
}

variable "POSTGRES_USER" {
  type        = string
  default     = "yourUser"
  description = "Compose variable POSTGRES_USER of compose.yaml"
}

service "postgres" {
  # envctl: ports: host side of 5432:5432 dropped; envctl publishes container port 5432 on an ephemeral host port (envctl env shows them)
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "postgres:latest"
  env = {
    POSTGRES_DB       = var.POSTGRES_DB
    POSTGRES_PASSWORD = var.POSTGRES_PW
    POSTGRES_USER     = var.POSTGRES_USER
  }
  ports = {
    p5432 = 5432
  }
}

service "pgadmin" {
  # envctl: ports: host side of 5050:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "dpage/pgadmin4:latest"
  env = {
    PGADMIN_DEFAULT_EMAIL    = var.PGADMIN_MAIL
    PGADMIN_DEFAULT_PASSWORD = var.PGADMIN_PW
  }
  ports = {
    http = 80
  }
}

# Imported from migration.yml by envctl import compose.

environment {
  name = "testdata"
}

variable "API_IMAGE" {
  type        = string
  default     = "example/shop-api:2"
  description = "Compose variable API_IMAGE of migration.yml"
}

variable "DB_IMAGE" {
  type        = string
  default     = "mysql:8"
  description = "Compose variable DB_IMAGE of migration.yml"
}

variable "MIGRATE_IMAGE" {
  type        = string
  default     = "migrate/migrate:v4.17.0"
  description = "Compose variable MIGRATE_IMAGE of migration.yml"
}

variable "MYSQL_ROOT_PASSWORD" {
  type        = string
  default     = "root"
  description = "Compose variable MYSQL_ROOT_PASSWORD of migration.yml"
  sensitive   = true
}

service "db" {
  image   = var.DB_IMAGE
  command = ["--tcp", "3306"]
  env = {
    MYSQL_DATABASE      = "shop"
    MYSQL_ROOT_PASSWORD = var.MYSQL_ROOT_PASSWORD
  }
  ready {
    exec     = ["/testsvc", "probe", "tcp", "127.0.0.1:3306"]
    interval = "1s"
    timeout  = "30s"
  }
}

service "migrate" {
  image      = var.MIGRATE_IMAGE
  run        = "once"
  command    = ["--delay", "200ms", "--exit", "0"]
  depends_on = [service.db]
}

service "api" {
  # envctl: ports: host side of 8000:8000 dropped; envctl publishes container port 8000 on an ephemeral host port (envctl env shows them)
  image      = var.API_IMAGE
  command    = ["--http", "8000"]
  depends_on = [service.db, service.migrate]
  ports = {
    http = 8000
  }
}

# Imported from unsupported.yml by envctl import compose.
# envctl: top-level networks are not supported; dropped (backend, frontend): every service is on the environment's own network, where all of them reach each other by name

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
  # envctl: container_name legacy-db is a network alias: envctl names the container ENVIRONMENT-db, and other services reach it as db or legacy-db
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 5432:5432 dropped; envctl publishes container port 5432 on an ephemeral host port (envctl env shows them)
  # envctl: ports: 5432:5432/udp is udp; envctl ports are TCP; dropped
  image   = var.IMAGE
  command = ["--tcp", "5432"]
  ports = {
    p5432 = 5432
  }
  aliases = ["legacy-db"]
  ulimits = {
    nofile = "1024:2048"
  }
  mount {
    type   = "volume"
    source = "pgdata"
    target = "/var/lib/postgresql/data"
  }
  mount {
    type   = "bind"
    source = "./init.sql"
    target = "/docker-entrypoint-initdb.d/init.sql"
  }
  secret "db_password" {
    file = "./db_password.txt"
  }
}

service "admin" {
  image       = var.ADMIN_IMAGE
  profiles    = ["debug"]
  user        = "1000:1000"
  working_dir = "/srv"
  command     = ["--http", "8080"]
  depends_on  = [service.db]
  env_file    = ["./.env.admin"]
  mount {
    type   = "bind"
    source = "./admin.conf"
    target = "/admin_config"
  }
}

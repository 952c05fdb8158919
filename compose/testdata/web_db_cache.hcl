# Imported from web_db_cache.yml by envctl import compose.

environment {
  name = "testdata"
}

variable "CACHE_IMAGE" {
  type        = string
  default     = "redis:7"
  description = "Compose variable CACHE_IMAGE of web_db_cache.yml"
}

variable "DB_IMAGE" {
  type        = string
  default     = "postgres:16-alpine"
  description = "Compose variable DB_IMAGE of web_db_cache.yml"
}

variable "DB_PASSWORD" {
  type        = string
  default     = "app"
  description = "Compose variable DB_PASSWORD of web_db_cache.yml"
  sensitive   = true
}

variable "WEB_IMAGE" {
  type        = string
  default     = "example/web:latest"
  description = "Compose variable WEB_IMAGE of web_db_cache.yml"
}

service "web" {
  # envctl: ports: host side of 8080:8080 dropped; envctl publishes container port 8080 on an ephemeral host port (envctl env shows them)
  image      = var.WEB_IMAGE
  command    = ["--http", "8080", "--call", "http://db:5432/healthz"]
  depends_on = [service.db, service.cache]
  env = {
    DATABASE_URL = "postgres://app:${var.DB_PASSWORD}@db:5432/app"
    REDIS_URL    = "redis://cache:6379/0"
  }
  ports = {
    http = 8080
  }
}

service "db" {
  image   = var.DB_IMAGE
  command = ["--http", "5432"]
  env = {
    POSTGRES_DB       = "app"
    POSTGRES_PASSWORD = var.DB_PASSWORD
    POSTGRES_USER     = "app"
  }
  mount {
    type   = "volume"
    source = "dbdata"
    target = "/var/lib/postgresql/data"
  }
  ready {
    exec            = ["/testsvc", "probe", "http", "http://127.0.0.1:5432/healthz"]
    interval        = "1s"
    timeout         = "20s"
    attempt_timeout = "3s"
  }
}

service "cache" {
  image   = var.CACHE_IMAGE
  command = ["--tcp", "6379"]
  ports = {
    p6379 = 6379
  }
}

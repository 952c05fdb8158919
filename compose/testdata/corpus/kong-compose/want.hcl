# Imported from docker-compose.yml by envctl import compose.
# envctl: version is obsolete in Compose and ignored
# envctl: x-kong-config is an extension field; ignored
# envctl: volume kong_prefix_vol is a tmpfs (driver_opts type: tmpfs): its mounts are tmpfs mounts
# envctl: volume kong_tmp_vol is a tmpfs (driver_opts type: tmpfs): its mounts are tmpfs mounts
# envctl: top-level networks are not supported; dropped (kong-net): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "kong-compose"
}

variable "KONG_ADMIN_LISTEN" {
  type        = string
  default     = "0.0.0.0:8001"
  description = "Compose variable KONG_ADMIN_LISTEN of docker-compose.yml"
}

variable "KONG_DATABASE" {
  type        = string
  default     = "off"
  description = "Compose variable KONG_DATABASE of docker-compose.yml"
}

variable "KONG_DOCKER_TAG" {
  type        = string
  default     = "kong:latest"
  description = "Compose variable KONG_DOCKER_TAG of docker-compose.yml"
}

variable "KONG_PG_DATABASE" {
  type        = string
  default     = "kong"
  description = "Compose variable KONG_PG_DATABASE of docker-compose.yml"
}

variable "KONG_PG_USER" {
  type        = string
  default     = "kong"
  description = "Compose variable KONG_PG_USER of docker-compose.yml"
}

variable "KONG_PROXY_LISTEN" {
  type        = string
  default     = "0.0.0.0:8000"
  description = "Compose variable KONG_PROXY_LISTEN of docker-compose.yml"
}

variable "KONG_USER" {
  type        = string
  default     = "kong"
  description = "Compose variable KONG_USER of docker-compose.yml"
}

service "kong-migrations" {
  # envctl: run = "once": a profile-only service that restarts on-failure and that nothing waits on is a one-shot task; up waits for it to exit 0
  image      = var.KONG_DOCKER_TAG
  run        = "once"
  profiles   = ["database"]
  command    = ["kong", "migrations", "bootstrap"]
  depends_on = [service.db]
  env = {
    KONG_DATABASE         = var.KONG_DATABASE
    KONG_PG_DATABASE      = var.KONG_PG_DATABASE
    KONG_PG_HOST          = "db"
    KONG_PG_PASSWORD_FILE = "/run/secrets/kong_postgres_password"
    KONG_PG_USER          = var.KONG_PG_USER
  }
  secret "kong_postgres_password" {
    file = "./POSTGRES_PASSWORD"
  }
}

service "kong-migrations-up" {
  # envctl: run = "once": a profile-only service that restarts on-failure and that nothing waits on is a one-shot task; up waits for it to exit 0
  image      = var.KONG_DOCKER_TAG
  run        = "once"
  profiles   = ["database"]
  command    = ["kong", "migrations", "up", "&&", "kong", "migrations", "finish"]
  depends_on = [service.db]
  env = {
    KONG_DATABASE         = var.KONG_DATABASE
    KONG_PG_DATABASE      = var.KONG_PG_DATABASE
    KONG_PG_HOST          = "db"
    KONG_PG_PASSWORD_FILE = "/run/secrets/kong_postgres_password"
    KONG_PG_USER          = var.KONG_PG_USER
  }
  secret "kong_postgres_password" {
    file = "./POSTGRES_PASSWORD"
  }
}

service "kong" {
  # envctl: read_only dropped: envctl copies mounted project files (./config) into the container before it starts, which a read-only filesystem refuses
  # envctl: ports: host side of ${KONG_INBOUND_PROXY_LISTEN:-0.0.0.0}:8000:8000/tcp dropped; envctl publishes container port 8000 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of ${KONG_INBOUND_SSL_PROXY_LISTEN:-0.0.0.0}:8443:8443/tcp dropped; envctl publishes container port 8443 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 127.0.0.1:8001:8001/tcp dropped; envctl publishes container port 8001 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 127.0.0.1:8444:8444/tcp dropped; envctl publishes container port 8444 on an ephemeral host port (envctl env shows them)
  # envctl: restart on-failure:5 is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: volumes: variable KONG_PREFIX is fixed to its default "/var/run/kong", since envctl needs a fixed value here
  # envctl: security_opt are not supported; dropped (envctl does not set security options)
  image = var.KONG_DOCKER_TAG
  user  = var.KONG_USER
  env = {
    KONG_ADMIN_ACCESS_LOG   = "/dev/stdout"
    KONG_ADMIN_ERROR_LOG    = "/dev/stderr"
    KONG_ADMIN_LISTEN       = var.KONG_ADMIN_LISTEN
    KONG_DATABASE           = var.KONG_DATABASE
    KONG_DECLARATIVE_CONFIG = "/opt/kong/kong.yaml"
    KONG_PG_DATABASE        = var.KONG_PG_DATABASE
    KONG_PG_HOST            = "db"
    KONG_PG_PASSWORD_FILE   = "/run/secrets/kong_postgres_password"
    KONG_PG_USER            = var.KONG_PG_USER
    KONG_PREFIX             = "/var/run/kong"
    KONG_PROXY_ACCESS_LOG   = "/dev/stdout"
    KONG_PROXY_ERROR_LOG    = "/dev/stderr"
    KONG_PROXY_LISTEN       = var.KONG_PROXY_LISTEN
  }
  ports = {
    http  = 8000
    https = 8443
    p8001 = 8001
    p8444 = 8444
  }
  mount {
    type   = "tmpfs"
    target = "/var/run/kong"
  }
  mount {
    type   = "tmpfs"
    target = "/tmp"
  }
  mount {
    type      = "bind"
    source    = "./config"
    target    = "/opt/kong"
    read_only = false
  }
  secret "kong_postgres_password" {
    file = "./POSTGRES_PASSWORD"
  }
  ready {
    exec            = ["kong", "health"]
    interval        = "10s"
    timeout         = "1m40s"
    attempt_timeout = "10s"
  }
}

service "db" {
  # envctl: healthcheck "pg_isready -U ${KONG_PG_USER:-kong}" is checked by envctl's postgres probe, from outside the container (the same question; no process per attempt in it)
  # envctl: restart on-failure is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: stdin_open is not supported; dropped (services run without stdin; envctl exec ENV SERVICE -- CMD gives one)
  # envctl: tty is not supported; dropped (services run without a terminal; envctl exec ENV SERVICE -- CMD gives one)
  image    = "postgres:9.5"
  profiles = ["database"]
  env = {
    POSTGRES_DB            = var.KONG_PG_DATABASE
    POSTGRES_PASSWORD_FILE = "/run/secrets/kong_postgres_password"
    POSTGRES_USER          = var.KONG_PG_USER
  }
  ports = {
    pg = 5432
  }
  mount {
    type   = "volume"
    source = "kong_data"
    target = "/var/lib/postgresql/data"
  }
  secret "kong_postgres_password" {
    file = "./POSTGRES_PASSWORD"
  }
  ready {
    postgres {
      port = "pg"
      user = var.KONG_PG_USER
    }
    timeout = "1m30s"
  }
}

# Imported from docker-compose.yml by envctl import compose.

environment {
  name = "immich"
}

variable "DB_DATABASE_NAME" {
  type        = string
  default     = "immich"
  description = "Compose variable DB_DATABASE_NAME of docker-compose.yml"
}

variable "DB_PASSWORD" {
  type        = string
  description = "Compose variable DB_PASSWORD of docker-compose.yml; its value is in .env, not copied here because it is sensitive"
  sensitive   = true
}

variable "DB_USERNAME" {
  type        = string
  default     = "postgres"
  description = "Compose variable DB_USERNAME of docker-compose.yml"
}

variable "IMMICH_VERSION" {
  type        = string
  default     = "release"
  description = "Compose variable IMMICH_VERSION of docker-compose.yml"
}

service "immich-server" {
  # envctl: container_name immich_server is not supported; dropped (envctl names containers ENVIRONMENT-SERVICE, and immich_server cannot be a network alias: aliases are DNS-safe and not another service's name); other services reach it as immich-server
  # envctl: volumes: variable UPLOAD_LOCATION is fixed to its .env value "./library", since envctl needs a fixed value here
  # envctl: volumes: /etc/localtime:/etc/localtime:ro mounts the host path /etc/localtime, outside the project; dropped (envctl mounts files and directories of the repository, relative to the environment file, copied in so that they work on any engine)
  # envctl: ports: variable EXPOSE_PORT is fixed to its default ":2283:2283", since envctl needs a fixed value here
  # envctl: ports: host side of ${EXPOSE_PORT-:2283:2283} dropped; envctl publishes container port 2283 on an ephemeral host port (envctl env shows them)
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: healthcheck without test (the image's HEALTHCHECK is not read); dropped
  image      = "ghcr.io/immich-app/immich-server:${var.IMMICH_VERSION}"
  depends_on = [service.redis, service.database]
  env_file   = ["./.env"]
  ports = {
    p2283 = 2283
  }
  mount {
    type      = "bind"
    source    = "./library"
    target    = "/data"
    read_only = false
  }
}

service "immich-machine-learning" {
  # envctl: container_name immich_machine_learning is not supported; dropped (envctl names containers ENVIRONMENT-SERVICE, and immich_machine_learning cannot be a network alias: aliases are DNS-safe and not another service's name); other services reach it as immich-machine-learning
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: healthcheck without test (the image's HEALTHCHECK is not read); dropped
  image    = "ghcr.io/immich-app/immich-machine-learning:${var.IMMICH_VERSION}"
  env_file = ["./.env"]
  mount {
    type   = "volume"
    source = "model-cache"
    target = "/cache"
  }
}

service "redis" {
  # envctl: container_name immich_redis is not supported; dropped (envctl names containers ENVIRONMENT-SERVICE, and immich_redis cannot be a network alias: aliases are DNS-safe and not another service's name); other services reach it as redis
  # envctl: healthcheck "redis-cli ping || exit 1" is checked by envctl's redis probe, from outside the container (the same question; no process per attempt in it)
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "docker.io/valkey/valkey:8-bookworm@sha256:a137a2b60aca1a75130022d6bb96af423fefae4eb55faf395732db3544803280"
  ports = {
    redis = 6379
  }
  ready {
    redis {
      port = "redis"
    }
    timeout = "1m30s"
  }
}

service "database" {
  # envctl: container_name immich_postgres is not supported; dropped (envctl names containers ENVIRONMENT-SERVICE, and immich_postgres cannot be a network alias: aliases are DNS-safe and not another service's name); other services reach it as database
  # envctl: volumes: variable DB_DATA_LOCATION is fixed to its .env value "./postgres", since envctl needs a fixed value here
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "ghcr.io/immich-app/postgres:14-vectorchord0.4.3-pgvectors0.2.0@sha256:32324a2f41df5de9efe1af166b7008c3f55646f8d0e00d9550c16c9822366b4a"
  env = {
    POSTGRES_DB          = var.DB_DATABASE_NAME
    POSTGRES_INITDB_ARGS = "--data-checksums"
    POSTGRES_PASSWORD    = var.DB_PASSWORD
    POSTGRES_USER        = var.DB_USERNAME
  }
  shm_size = "128MiB"
  mount {
    type      = "bind"
    source    = "./postgres"
    target    = "/var/lib/postgresql/data"
    read_only = false
  }
}

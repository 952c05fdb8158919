# Imported from docker-compose.yml by envctl import compose.
# envctl: top-level networks are not supported; dropped (external_network, internal_network): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "mastodon"
}

service "db" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: healthcheck "pg_isready -U postgres" is checked by envctl's postgres probe, from outside the container (the same question; no process per attempt in it)
  image = "postgres:14-alpine"
  env = {
    POSTGRES_HOST_AUTH_METHOD = "trust"
  }
  ports = {
    pg = 5432
  }
  shm_size = "256MiB"
  mount {
    type      = "bind"
    source    = "./postgres14"
    target    = "/var/lib/postgresql/data"
    read_only = false
  }
  ready {
    postgres {
      port = "pg"
      user = "postgres"
    }
    timeout = "1m30s"
  }
}

service "redis" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: healthcheck "redis-cli ping" is checked by envctl's redis probe, from outside the container (the same question; no process per attempt in it)
  image = "redis:7-alpine"
  ports = {
    redis = 6379
  }
  mount {
    type      = "bind"
    source    = "./redis"
    target    = "/data"
    read_only = false
  }
  ready {
    redis {
      port = "redis"
    }
    timeout = "1m30s"
  }
}

service "web" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 127.0.0.1:3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  image      = "ghcr.io/mastodon/mastodon:v4.3.17"
  command    = ["bundle", "exec", "puma", "-C", "config/puma.rb"]
  depends_on = [service.db, service.redis]
  env_file   = ["./.env.production"]
  ports = {
    http = 3000
  }
  mount {
    type      = "bind"
    source    = "./public/system"
    target    = "/mastodon/public/system"
    read_only = false
  }
  ready {
    exec    = ["/bin/sh", "-c", "curl -s --noproxy localhost localhost:3000/health | grep -q 'OK' || exit 1"]
    timeout = "1m30s"
  }
}

service "streaming" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 127.0.0.1:4000:4000 dropped; envctl publishes container port 4000 on an ephemeral host port (envctl env shows them)
  image      = "ghcr.io/mastodon/mastodon-streaming:v4.3.17"
  command    = ["node", "./streaming/index.js"]
  depends_on = [service.db, service.redis]
  env_file   = ["./.env.production"]
  ports = {
    p4000 = 4000
  }
  ready {
    exec    = ["/bin/sh", "-c", "curl -s --noproxy localhost localhost:4000/api/v1/streaming/health | grep -q 'OK' || exit 1"]
    timeout = "1m30s"
  }
}

service "sidekiq" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image      = "ghcr.io/mastodon/mastodon:v4.3.17"
  command    = ["bundle", "exec", "sidekiq"]
  depends_on = [service.db, service.redis]
  env_file   = ["./.env.production"]
  mount {
    type      = "bind"
    source    = "./public/system"
    target    = "/mastodon/public/system"
    read_only = false
  }
  ready {
    exec    = ["/bin/sh", "-c", "ps aux | grep '[s]idekiq 6' || false"]
    timeout = "1m30s"
  }
}

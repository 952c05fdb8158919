# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-nextcloud-postgres"
}

service "nc" {
  # envctl: ports: host side of 80:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "nextcloud:apache"
  env = {
    POSTGRES_DB       = "nextcloud"
    POSTGRES_HOST     = "db"
    POSTGRES_PASSWORD = "nextcloud"
    POSTGRES_USER     = "nextcloud"
  }
  ports = {
    http = 80
  }
  mount {
    type   = "volume"
    source = "nc_data"
    target = "/var/www/html"
  }
}

service "db" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "postgres:alpine"
  env = {
    POSTGRES_DB       = "nextcloud"
    POSTGRES_PASSWORD = "nextcloud"
    POSTGRES_USER     = "nextcloud"
  }
  ports = {
    p5432 = 5432
  }
  mount {
    type   = "volume"
    source = "db_data"
    target = "/var/lib/postgresql/data"
  }
}

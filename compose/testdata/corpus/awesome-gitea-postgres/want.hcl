# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-gitea-postgres"
}

service "gitea" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  image = "gitea/gitea:latest"
  env = {
    DB_HOST   = "db:5432"
    DB_NAME   = "gitea"
    DB_PASSWD = "gitea"
    DB_TYPE   = "postgres"
    DB_USER   = "gitea"
  }
  ports = {
    http = 3000
  }
  mount {
    type   = "volume"
    source = "git_data"
    target = "/data"
  }
}

service "db" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "postgres:alpine"
  env = {
    POSTGRES_DB       = "gitea"
    POSTGRES_PASSWORD = "gitea"
    POSTGRES_USER     = "gitea"
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

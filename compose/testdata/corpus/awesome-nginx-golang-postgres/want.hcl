# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-nginx-golang-postgres"
}

service "backend" {
  build {
    context = "./backend"
    target  = "builder"
  }
  depends_on = [service.db]
  secret "db-password" {
    file = "./db/password.txt"
  }
}

service "db" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: healthcheck "pg_isready" is checked by envctl's postgres probe, from outside the container (the same question; no process per attempt in it)
  image = "postgres"
  user  = "postgres"
  env = {
    POSTGRES_DB            = "example"
    POSTGRES_PASSWORD_FILE = "/run/secrets/db-password"
  }
  ports = {
    p5432 = 5432
  }
  mount {
    type   = "volume"
    source = "db-data"
    target = "/var/lib/postgresql"
  }
  secret "db-password" {
    file = "./db/password.txt"
  }
  ready {
    postgres {
      port = "p5432"
    }
    timeout = "50s"
  }
}

service "proxy" {
  # envctl: ports: host side of 80:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  image      = "nginx"
  depends_on = [service.backend]
  ports = {
    http = 80
  }
  mount {
    type   = "bind"
    source = "./proxy/nginx.conf"
    target = "/etc/nginx/conf.d/default.conf"
  }
}

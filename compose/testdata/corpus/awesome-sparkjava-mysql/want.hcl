# Imported from docker-compose.yaml by envctl import compose.
# envctl: version is obsolete in Compose and ignored

environment {
  name = "awesome-sparkjava-mysql"
}

service "backend" {
  # envctl: ports: host side of 8080:8080 dropped; envctl publishes container port 8080 on an ephemeral host port (envctl env shows them)
  build {
    context = "./backend"
  }
  ports = {
    http = 8080
  }
  secret "db-password" {
    file = "./db/password.txt"
  }
}

service "db" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "mysql:8.0.19"
  env = {
    MYSQL_DATABASE           = "example"
    MYSQL_ROOT_PASSWORD_FILE = "/run/secrets/db-password"
  }
  mount {
    type   = "volume"
    source = "db-data"
    target = "/var/lib/mysql"
  }
  secret "db-password" {
    file = "./db/password.txt"
  }
}

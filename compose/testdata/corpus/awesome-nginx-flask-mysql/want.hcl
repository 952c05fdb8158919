# Imported from compose.yaml by envctl import compose.
# envctl: top-level networks are not supported; dropped (backnet, frontnet): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-nginx-flask-mysql"
}

service "db" {
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: logging is not supported; dropped (the engine's default log driver is kept so that envctl logs can read the output)
  image   = "mariadb:10-focal"
  command = ["--default-authentication-plugin=mysql_native_password"]
  env = {
    MYSQL_DATABASE           = "example"
    MYSQL_ROOT_PASSWORD_FILE = "/run/secrets/db-password"
  }
  ports = {
    p3306  = 3306
    p33060 = 33060
  }
  mount {
    type   = "volume"
    source = "db-data"
    target = "/var/lib/mysql"
  }
  secret "db-password" {
    file = "./db/password.txt"
  }
  ready {
    exec            = ["/bin/sh", "-c", "mysqladmin ping -h 127.0.0.1 --password=\"$(cat /run/secrets/db-password)\" --silent"]
    interval        = "10s"
    timeout         = "1m"
    attempt_timeout = "5s"
  }
}

service "backend" {
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 8000:8000 dropped; envctl publishes container port 8000 on an ephemeral host port (envctl env shows them)
  # envctl: logging is not supported; dropped (the engine's default log driver is kept so that envctl logs can read the output)
  build {
    context = "./backend"
    target  = "builder"
  }
  depends_on = [service.db]
  ports = {
    http = 8000
  }
  secret "db-password" {
    file = "./db/password.txt"
  }
  ready {
    exec            = ["wget", "--no-verbose", "--tries=1", "--spider", "http://localhost:8000/health"]
    interval        = "30s"
    timeout         = "2m10s"
    attempt_timeout = "10s"
  }
}

service "proxy" {
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 80:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  # envctl: logging is not supported; dropped (the engine's default log driver is kept so that envctl logs can read the output)
  build {
    context = "./proxy"
  }
  depends_on = [service.backend]
  ports = {
    http = 80
  }
  ready {
    exec            = ["wget", "--no-verbose", "--tries=1", "--spider", "http://localhost:80/health"]
    interval        = "30s"
    timeout         = "1m40s"
    attempt_timeout = "10s"
  }
}

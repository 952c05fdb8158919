# Imported from compose.yaml by envctl import compose.
# envctl: top-level networks are not supported; dropped (backnet, frontnet): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-nginx-flask-mysql"
}

service "db" {
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: healthcheck "mysqladmin ping -h 127.0.0.1 --password=\"$$(cat /run/secrets/db-password)\" --silent" is checked by envctl's mysql probe, from outside the container (the same question; no process per attempt in it)
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
    mysql {
      port = "p3306"
    }
    timeout = "1m"
  }
}

service "backend" {
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 8000:8000 dropped; envctl publishes container port 8000 on an ephemeral host port (envctl env shows them)
  # envctl: healthcheck "wget --no-verbose --tries=1 --spider http://localhost:8000/health" is checked by envctl's http probe, from outside the container (the same question; no process per attempt in it); the probe wants HTTP 200 where the command took any success: set status if the answer is another
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
    http {
      port = "http"
      path = "/health"
    }
    timeout = "2m10s"
  }
}

service "proxy" {
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 80:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  # envctl: healthcheck "wget --no-verbose --tries=1 --spider http://localhost:80/health" is checked by envctl's http probe, from outside the container (the same question; no process per attempt in it); the probe wants HTTP 200 where the command took any success: set status if the answer is another
  # envctl: logging is not supported; dropped (the engine's default log driver is kept so that envctl logs can read the output)
  build {
    context = "./proxy"
  }
  depends_on = [service.backend]
  ports = {
    http = 80
  }
  ready {
    http {
      port = "http"
      path = "/health"
    }
    timeout = "1m40s"
  }
}

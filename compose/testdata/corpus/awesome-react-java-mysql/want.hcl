# Imported from compose.yaml by envctl import compose.
# envctl: top-level networks are not supported; dropped (react-spring, spring-mysql): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-react-java-mysql"
}

service "backend" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  build {
    context = "./backend"
  }
  depends_on = [service.db]
  env = {
    MYSQL_HOST = "db"
  }
  secret "db-password" {
    file = "./db/password.txt"
  }
}

service "db" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: healthcheck "mysqladmin ping -h 127.0.0.1 --silent" is checked by envctl's mysql probe, from outside the container (the same question; no process per attempt in it)
  image = "mariadb:10.6.4-focal"
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
    timeout = "45s"
  }
}

service "frontend" {
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  # envctl: anonymous volume /project/node_modules is volume frontend-project-node-modules of the environment
  build {
    context = "./frontend"
    target  = "development"
  }
  depends_on = [service.backend]
  ports = {
    http = 3000
  }
  mount {
    type      = "bind"
    source    = "./frontend/src"
    target    = "/code/src"
    read_only = false
  }
  mount {
    type   = "volume"
    source = "frontend-project-node-modules"
    target = "/project/node_modules"
  }
}

# Imported from compose.yaml by envctl import compose.
# envctl: top-level networks are not supported; dropped (public, private): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-react-express-mysql"
}

service "backend" {
  # envctl: ports: host side of 80:8080 dropped; envctl publishes container port 8080 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 9229:9229 dropped; envctl publishes container port 9229 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 9230:9230 dropped; envctl publishes container port 9230 on an ephemeral host port (envctl env shows them)
  build {
    context = "./backend"
    args = {
      NODE_ENV = "development"
    }
    target = "development"
  }
  command    = ["npm", "run", "start-watch"]
  depends_on = [service.db]
  env = {
    DATABASE_DB       = "example"
    DATABASE_HOST     = "db"
    DATABASE_PASSWORD = "/run/secrets/db-password"
    DATABASE_USER     = "root"
    NODE_ENV          = "development"
  }
  ports = {
    http  = 8080
    p9229 = 9229
    p9230 = 9230
  }
  mount {
    type   = "bind"
    source = "./backend/src"
    target = "/code/src"
  }
  mount {
    type      = "bind"
    source    = "./backend/package.json"
    target    = "/code/package.json"
    read_only = false
  }
  mount {
    type      = "bind"
    source    = "./backend/package-lock.json"
    target    = "/code/package-lock.json"
    read_only = false
  }
  mount {
    type   = "volume"
    source = "back-notused"
    target = "/opt/app/node_modules"
  }
  secret "db-password" {
    file = "./db/password.txt"
  }
}

service "db" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image   = "mariadb:10.6.4-focal"
  command = ["--default-authentication-plugin=mysql_native_password"]
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

service "frontend" {
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  # envctl: anonymous volume /code/node_modules is volume frontend-code-node-modules of the environment
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
    source = "frontend-code-node-modules"
    target = "/code/node_modules"
  }
}

# Imported from docker-compose.yaml by envctl import compose.
# envctl: version is obsolete in Compose and ignored

environment {
  name = "awesome-nginx-php-mysql"
}

service "backend" {
  image      = "php:8.0.3-fpm-buster"
  depends_on = [service.db]
  mount {
    type      = "bind"
    source    = "./backend"
    target    = "/var/www/html"
    read_only = false
  }
  secret "db-password" {
    file = "./db/password.txt"
  }
}

service "db" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image   = "mysql:8.0.19"
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

service "proxy" {
  # envctl: ports: host side of 80:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  build {
    context = "./proxy"
  }
  depends_on = [service.backend]
  ports = {
    http = 80
  }
  mount {
    type      = "bind"
    source    = "./backend"
    target    = "/var/www/html"
    read_only = false
  }
}

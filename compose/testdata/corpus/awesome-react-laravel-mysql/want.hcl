# Imported from compose.yaml by envctl import compose.
# envctl: top-level networks are not supported; dropped (vite-laravel, laravel-mysql): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-react-laravel-mysql"
}

variable "DB_DATABASE" {
  type        = string
  default     = "my_database"
  description = "Compose variable DB_DATABASE of compose.yaml"
}

variable "DB_HOST" {
  type        = string
  default     = "db"
  description = "Compose variable DB_HOST of compose.yaml"
}

variable "DB_PASSWORD" {
  type        = string
  description = "Compose variable DB_PASSWORD of compose.yaml; its value is in .env, not copied here because it is sensitive"
  sensitive   = true
}

service "backend" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 8000:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  build {
    context = "./backend"
  }
  depends_on = [service.db]
  env = {
    MYSQL_DATABASE      = var.DB_DATABASE
    MYSQL_HOST          = var.DB_HOST
    MYSQL_PASSWORD      = var.DB_PASSWORD
    MYSQL_ROOT_PASSWORD = var.DB_PASSWORD
  }
  ports = {
    http = 80
  }
  secret "db-password" {
    file = "./db/password.txt"
  }
}

service "db" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: healthcheck "mysqladmin ping -h 127.0.0.1 --silent" is checked by envctl's mysql probe, from outside the container (the same question; no process per attempt in it)
  image = "mysql:lts"
  env = {
    MYSQL_DATABASE      = var.DB_DATABASE
    MYSQL_PASSWORD      = var.DB_PASSWORD
    MYSQL_ROOT_PASSWORD = var.DB_PASSWORD
  }
  ports = {
    mysql = 3306
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
      port = "mysql"
    }
    timeout = "45s"
  }
}

service "frontend" {
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  # envctl: anonymous volume /project/node_modules is volume frontend-project-node-modules of the environment
  build {
    context = "./frontend"
  }
  depends_on = [service.backend]
  ports = {
    http   = 3000
    p3306  = 3306
    p33060 = 33060
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

# Imported from compose.yaml by envctl import compose.
# envctl: top-level networks are not supported; dropped (express-network, db-network): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-react-express-mongodb"
}

service "frontend" {
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  # envctl: depends_on backend: there is no such service; taken as Backend, whose envctl name is the same (Compose would refuse the file)
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  build {
    context = "./frontend"
  }
  depends_on = [service.backend]
  ports = {
    http = 3000
  }
  mount {
    type      = "bind"
    source    = "./frontend"
    target    = "/app"
    read_only = false
  }
}

service "backend" {
  # envctl: renamed to backend: envctl service names are DNS-safe (lowercase letters, digits, "-"); services that reach it by the host name Backend must use backend
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  build {
    context = "./backend"
  }
  depends_on = [service.db]
  ports = {
    http = 3000
  }
}

service "db" {
  # envctl: ports: host side of 27017:27017 dropped; envctl publishes container port 27017 on an ephemeral host port (envctl env shows them)
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "mongo:latest"
  ports = {
    p27017 = 27017
  }
  mount {
    type      = "bind"
    source    = "./data"
    target    = "/data/db"
    read_only = false
  }
}

# Imported from compose.yaml by envctl import compose.
# envctl: top-level networks are not supported; dropped (react-backend, react-frontend): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-react-aspnet-mongodb"
}

service "frontend" {
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
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
    target    = "/app"
    read_only = false
  }
}

service "backend" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 8000:8000 dropped; envctl publishes container port 8000 on an ephemeral host port (envctl env shows them)
  build {
    context = "./backend"
  }
  depends_on = [service.mongo]
  env = {
    ASPNETCORE_URLS = "http://+:8000"
  }
  ports = {
    http = 8000
  }
  secret "db-connection" {
    file = "./db/connection.txt"
  }
}

service "mongo" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "mongo:4.2.0"
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

# Imported from compose.yaml by envctl import compose.
# envctl: top-level networks are not supported; dropped (client-side, server-side): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-react-rust-postgres"
}

service "frontend" {
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  build {
    context = "./frontend"
    target  = "development"
  }
  ports = {
    http = 3000
  }
  mount {
    type   = "bind"
    source = "./frontend/src"
    target = "/code/src"
  }
}

service "backend" {
  build {
    context = "./backend"
    target  = "development"
  }
  depends_on = [service.db]
  env = {
    ADDRESS     = "0.0.0.0:8000"
    PG_DBNAME   = "postgres"
    PG_HOST     = "db"
    PG_PASSWORD = "mysecretpassword"
    PG_USER     = "postgres"
    RUST_LOG    = "debug"
  }
  mount {
    type      = "bind"
    source    = "./backend/src"
    target    = "/code/src"
    read_only = false
  }
  mount {
    type   = "volume"
    source = "backend-cache"
    target = "/code/target"
  }
}

service "db" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 5432:5432 dropped; envctl publishes container port 5432 on an ephemeral host port (envctl env shows them)
  image = "postgres:12-alpine"
  env = {
    POSTGRES_PASSWORD = "mysecretpassword"
  }
  ports = {
    p5432 = 5432
  }
  mount {
    type   = "volume"
    source = "db-data"
    target = "/var/lib/postgresql/data"
  }
}

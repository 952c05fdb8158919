# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-genieacs-mongodb"
}

service "genieacs" {
  # envctl: ports: host side of 7547:7547 dropped; envctl publishes container port 7547 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 7557:7557 dropped; envctl publishes container port 7557 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 7567:7567 dropped; envctl publishes container port 7567 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image      = "drumsergio/genieacs:1.2.16.0"
  depends_on = [service.mongo]
  env = {
    GENIEACS_EXT_DIR                = "/opt/genieacs/ext"
    GENIEACS_MONGODB_CONNECTION_URL = "mongodb://mongo/genieacs"
    GENIEACS_UI_JWT_SECRET          = "changeme"
  }
  ports = {
    p7547 = 7547
    p7557 = 7557
    p7567 = 7567
    http  = 3000
  }
}

service "mongo" {
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: healthcheck "mongosh --eval db.adminCommand('ping')" is checked by envctl's mongodb probe, from outside the container (the same question; no process per attempt in it)
  image = "mongo:8.0"
  ports = {
    p27017 = 27017
  }
  mount {
    type   = "volume"
    source = "mongo_data"
    target = "/data/db"
  }
  ready {
    mongodb {
      port = "p27017"
    }
    timeout = "1m30s"
  }
}

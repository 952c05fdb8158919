# Imported from compose.yaml by envctl import compose.
# envctl: x-bw-env is an extension field; ignored
# envctl: top-level networks are not supported; dropped (bw-universe, bw-services, bw-db): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-bunkerweb-mariadb"
}

service "bunkerweb" {
  # envctl: ports: host side of 80:8080/tcp dropped; envctl publishes container port 8080 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 443:8443/tcp dropped; envctl publishes container port 8443 on an ephemeral host port (envctl env shows them)
  # envctl: ports: 443:8443/udp is udp; envctl ports are TCP; dropped
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "bunkerity/bunkerweb:1.6.7"
  env = {
    API_TOKEN        = ""
    API_WHITELIST_IP = "127.0.0.0/8 10.20.30.0/24"
    DATABASE_URI     = "mariadb+pymysql://bunkerweb:changeme@bw-db:3306/db"
  }
  ports = {
    http  = 8080
    https = 8443
  }
}

service "bw-scheduler" {
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "bunkerity/bunkerweb-scheduler:1.6.7"
  env = {
    API_TOKEN           = ""
    API_WHITELIST_IP    = "127.0.0.0/8 10.20.30.0/24"
    BUNKERWEB_INSTANCES = "bunkerweb"
    DATABASE_URI        = "mariadb+pymysql://bunkerweb:changeme@bw-db:3306/db"
    MULTISITE           = "yes"
    REDIS_HOST          = "valkey"
    SERVER_NAME         = ""
    UI_HOST             = "http://bw-ui:7000"
    USE_REDIS           = "yes"
  }
  mount {
    type   = "volume"
    source = "bw-storage"
    target = "/data"
  }
}

service "bw-ui" {
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "bunkerity/bunkerweb-ui:1.6.7"
  env = {
    API_TOKEN        = ""
    API_WHITELIST_IP = "127.0.0.0/8 10.20.30.0/24"
    DATABASE_URI     = "mariadb+pymysql://bunkerweb:changeme@bw-db:3306/db"
  }
}

service "bw-db" {
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image   = "mariadb:11"
  command = ["--max-allowed-packet=67108864"]
  env = {
    MYSQL_DATABASE             = "db"
    MYSQL_PASSWORD             = "changeme"
    MYSQL_RANDOM_ROOT_PASSWORD = "yes"
    MYSQL_USER                 = "bunkerweb"
  }
  mount {
    type   = "volume"
    source = "bw-data"
    target = "/var/lib/mysql"
  }
}

service "valkey" {
  # envctl: healthcheck "valkey-cli ping | grep PONG" is checked by envctl's redis probe, from outside the container (the same question; no process per attempt in it)
  # envctl: sysctls are not supported; dropped (envctl does not set kernel parameters)
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image   = "valkey/valkey:9-alpine"
  command = ["valkey-server", "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru", "--save", "60", "1000", "--appendonly", "yes"]
  ports = {
    redis = 6379
  }
  mount {
    type   = "volume"
    source = "valkey-data"
    target = "/data"
  }
  ready {
    redis {
      port = "redis"
    }
    timeout = "2m30s"
  }
}

service "app" {
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "bunkerity/bunkerweb-hello:v1.0"
}

# Imported from compose.yaml by envctl import compose.
# envctl: version is obsolete in Compose and ignored
# envctl: top-level networks are not supported; dropped (graynet): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-graylog"
}

service "mongo" {
  # envctl: container_name mongodb is a network alias: envctl names the container ENVIRONMENT-mongo, and other services reach it as mongo or mongodb
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image   = "mongo:6.0.5-jammy"
  aliases = ["mongodb"]
  mount {
    type   = "volume"
    source = "mongo_data"
    target = "/data/db"
  }
}

service "opensearch" {
  # envctl: ports: host side of 9200:9200/tcp dropped; envctl publishes container port 9200 on an ephemeral host port (envctl env shows them)
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "opensearchproject/opensearch:2"
  env = {
    OPENSEARCH_JAVA_OPTS                = "-Xms1g -Xmx1g"
    "action.auto_create_index"          = "false"
    "bootstrap.memory_lock"             = "true"
    "discovery.type"                    = "single-node"
    "plugins.security.disabled"         = "true"
    "plugins.security.ssl.http.enabled" = "false"
  }
  ports = {
    p9200 = 9200
  }
  ulimits = {
    memlock = "-1:-1"
    nofile  = "65536:65536"
  }
  mount {
    type   = "volume"
    source = "log_data"
    target = "/usr/share/opensearch/data"
  }
}

service "graylog" {
  # envctl: volumes: ${PWD} is taken as the project directory
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 9000:9000/tcp dropped; envctl publishes container port 9000 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 1514:1514/tcp dropped; envctl publishes container port 1514 on an ephemeral host port (envctl env shows them)
  # envctl: ports: 1514:1514/udp is udp; envctl ports are TCP; dropped
  # envctl: ports: host side of 12201:12201/tcp dropped; envctl publishes container port 12201 on an ephemeral host port (envctl env shows them)
  # envctl: ports: 12201:12201/udp is udp; envctl ports are TCP; dropped
  image      = "graylog/graylog:5.1"
  entrypoint = ["/usr/bin/tini", "--", "wait-for-it", "opensearch:9200", "--", "/docker-entrypoint.sh"]
  depends_on = [service.opensearch, service.mongo]
  env = {
    GRAYLOG_ELASTICSEARCH_HOSTS = "http://opensearch:9200"
    GRAYLOG_HTTP_BIND_ADDRESS   = "0.0.0.0:9000"
    GRAYLOG_HTTP_EXTERNAL_URI   = "http://localhost:9000/"
    GRAYLOG_MONGODB_URI         = "mongodb://mongodb:27017/graylog"
    GRAYLOG_PASSWORD_SECRET     = "somesamplepassword"
    GRAYLOG_ROOT_PASSWORD_SHA2  = "8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918"
    GRAYLOG_TIMEZONE            = "America/Los_Angeles"
    TZ                          = "America/Los_Angeles"
  }
  ports = {
    p9000  = 9000
    p1514  = 1514
    p12201 = 12201
  }
  mount {
    type      = "bind"
    source    = "./config/graylog/graylog.conf"
    target    = "/usr/share/graylog/config/graylog.conf"
    read_only = false
  }
  mount {
    type   = "volume"
    source = "graylog_data"
    target = "/usr/share/graylog/data"
  }
}

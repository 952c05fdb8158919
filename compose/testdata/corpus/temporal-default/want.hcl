# Imported from docker-compose.yml by envctl import compose.
# envctl: version is obsolete in Compose and ignored
# envctl: top-level networks are not supported; dropped (temporal-network): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "temporal"
}

variable "ELASTICSEARCH_VERSION" {
  type        = string
  default     = "7.16.2"
  description = "Compose variable ELASTICSEARCH_VERSION of docker-compose.yml"
}

variable "POSTGRESQL_VERSION" {
  type        = string
  default     = "13"
  description = "Compose variable POSTGRESQL_VERSION of docker-compose.yml"
}

variable "TEMPORAL_UI_VERSION" {
  type        = string
  default     = "2.21.0"
  description = "Compose variable TEMPORAL_UI_VERSION of docker-compose.yml"
}

variable "TEMPORAL_VERSION" {
  type        = string
  default     = "1.22.3"
  description = "Compose variable TEMPORAL_VERSION of docker-compose.yml"
}

service "elasticsearch" {
  # envctl: container_name temporal-elasticsearch is a network alias: envctl names the container ENVIRONMENT-elasticsearch, and other services reach it as elasticsearch or temporal-elasticsearch
  # envctl: anonymous volume /var/lib/elasticsearch/data is volume elasticsearch-var-lib-elasticsearch-data of the environment
  image = "elasticsearch:${var.ELASTICSEARCH_VERSION}"
  env = {
    ES_JAVA_OPTS                                            = "-Xms256m -Xmx256m"
    "cluster.routing.allocation.disk.threshold_enabled"     = "true"
    "cluster.routing.allocation.disk.watermark.flood_stage" = "128mb"
    "cluster.routing.allocation.disk.watermark.high"        = "256mb"
    "cluster.routing.allocation.disk.watermark.low"         = "512mb"
    "discovery.type"                                        = "single-node"
    "xpack.security.enabled"                                = "false"
  }
  ports = {
    p9200 = 9200
  }
  aliases = ["temporal-elasticsearch"]
  mount {
    type   = "volume"
    source = "elasticsearch-var-lib-elasticsearch-data"
    target = "/var/lib/elasticsearch/data"
  }
}

service "postgresql" {
  # envctl: container_name temporal-postgresql is a network alias: envctl names the container ENVIRONMENT-postgresql, and other services reach it as postgresql or temporal-postgresql
  # envctl: anonymous volume /var/lib/postgresql/data is volume postgresql-var-lib-postgresql-data of the environment
  image = "postgres:${var.POSTGRESQL_VERSION}"
  env = {
    POSTGRES_PASSWORD = "temporal"
    POSTGRES_USER     = "temporal"
  }
  ports = {
    p5432 = 5432
  }
  aliases = ["temporal-postgresql"]
  mount {
    type   = "volume"
    source = "postgresql-var-lib-postgresql-data"
    target = "/var/lib/postgresql/data"
  }
}

service "temporal" {
  # envctl: ports: host side of 7233:7233 dropped; envctl publishes container port 7233 on an ephemeral host port (envctl env shows them)
  image      = "temporalio/auto-setup:${var.TEMPORAL_VERSION}"
  depends_on = [service.postgresql, service.elasticsearch]
  env = {
    DB                       = "postgresql"
    DB_PORT                  = "5432"
    DYNAMIC_CONFIG_FILE_PATH = "config/dynamicconfig/development-sql.yaml"
    ENABLE_ES                = "true"
    ES_SEEDS                 = "elasticsearch"
    ES_VERSION               = "v7"
    POSTGRES_PWD             = "temporal"
    POSTGRES_SEEDS           = "postgresql"
    POSTGRES_USER            = "temporal"
  }
  ports = {
    p7233 = 7233
  }
  labels = {
    "kompose.volume.type" = "configMap"
  }
  mount {
    type      = "bind"
    source    = "./dynamicconfig"
    target    = "/etc/temporal/config/dynamicconfig"
    read_only = false
  }
}

service "temporal-admin-tools" {
  # envctl: stdin_open is not supported; dropped (services run without stdin; envctl exec ENV SERVICE -- CMD gives one)
  # envctl: tty is not supported; dropped (services run without a terminal; envctl exec ENV SERVICE -- CMD gives one)
  image      = "temporalio/admin-tools:${var.TEMPORAL_VERSION}"
  depends_on = [service.temporal]
  env = {
    TEMPORAL_CLI_ADDRESS = "temporal:7233"
  }
}

service "temporal-ui" {
  # envctl: ports: host side of 8080:8080 dropped; envctl publishes container port 8080 on an ephemeral host port (envctl env shows them)
  image      = "temporalio/ui:${var.TEMPORAL_UI_VERSION}"
  depends_on = [service.temporal]
  env = {
    TEMPORAL_ADDRESS      = "temporal:7233"
    TEMPORAL_CORS_ORIGINS = "http://localhost:3000"
  }
  ports = {
    http = 8080
  }
}

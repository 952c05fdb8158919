# Imported from docker-compose-postgres.yml by envctl import compose.
# envctl: version is obsolete in Compose and ignored
# envctl: top-level networks are not supported; dropped (temporal-network): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "temporal-postgres-1-10"
}

service "postgresql" {
  # envctl: container_name temporal-postgresql is a network alias: envctl names the container ENVIRONMENT-postgresql, and other services reach it as postgresql or temporal-postgresql
  # envctl: ports: host side of 5432:5432 dropped; envctl publishes container port 5432 on an ephemeral host port (envctl env shows them)
  image = "postgres:9.6"
  env = {
    POSTGRES_PASSWORD = "temporal"
    POSTGRES_USER     = "temporal"
  }
  ports = {
    p5432 = 5432
  }
  aliases = ["temporal-postgresql"]
}

service "temporal" {
  # envctl: ports: host side of 7233:7233 dropped; envctl publishes container port 7233 on an ephemeral host port (envctl env shows them)
  image      = "temporalio/auto-setup:1.10.1"
  depends_on = [service.postgresql]
  env = {
    DB                       = "postgresql"
    DB_PORT                  = "5432"
    DYNAMIC_CONFIG_FILE_PATH = "config/dynamicconfig/development.yaml"
    POSTGRES_PWD             = "temporal"
    POSTGRES_SEEDS           = "postgresql"
    POSTGRES_USER            = "temporal"
  }
  ports = {
    p7233 = 7233
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
  image      = "temporalio/admin-tools:1.10.1"
  depends_on = [service.temporal]
  env = {
    TEMPORAL_CLI_ADDRESS = "temporal:7233"
  }
}

service "temporal-web" {
  # envctl: ports: host side of 8088:8088 dropped; envctl publishes container port 8088 on an ephemeral host port (envctl env shows them)
  image      = "temporalio/web:1.10.0"
  depends_on = [service.temporal]
  env = {
    TEMPORAL_GRPC_ENDPOINT    = "temporal:7233"
    TEMPORAL_PERMIT_WRITE_API = "true"
  }
  ports = {
    p8088 = 8088
  }
}

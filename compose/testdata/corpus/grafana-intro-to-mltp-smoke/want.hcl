# Imported from docker-compose.yml + compose.yml by envctl import compose.
# envctl: version is obsolete in Compose and ignored

environment {
  name = "grafana-intro-to-mltp-smoke"
}

variable "COMPOSE_PROJECT_NAME" {
  type        = string
  default     = "grafana-intro-to-mltp-smoke"
  description = "Compose variable COMPOSE_PROJECT_NAME of docker-compose.yml"
}

service "alloy" {
  image   = "grafana/alloy:v1.1.0"
  command = ["run", "--server.http.listen-addr=0.0.0.0:12345", "--stability.level=public-preview", "/etc/alloy/config.alloy"]
  mount {
    type      = "bind"
    source    = "./alloy/config.alloy"
    target    = "/etc/alloy/config.alloy"
    read_only = false
  }
  mount {
    type      = "bind"
    source    = "./alloy/endpoints.json"
    target    = "/etc/alloy/endpoints.json"
    read_only = false
  }
}

service "grafana" {
  image = "grafana/grafana:11.0.0"
  env = {
    GF_AUTH_ANONYMOUS_ENABLED  = "true"
    GF_AUTH_ANONYMOUS_ORG_ROLE = "Admin"
    GF_AUTH_DISABLE_LOGIN_FORM = "true"
    GF_FEATURE_TOGGLES_ENABLE  = "flameGraph traceqlSearch traceQLStreaming correlations metricsSummary traceqlEditor traceToMetrics traceToProfiles datatrails"
    GF_INSTALL_PLUGINS         = "https://storage.googleapis.com/integration-artifacts/grafana-lokiexplore-app/grafana-lokiexplore-app-latest.zip;grafana-lokiexplore-app"
  }
  mount {
    type      = "bind"
    source    = "./grafana/definitions"
    target    = "/var/lib/grafana/dashboards"
    read_only = false
  }
  mount {
    type      = "bind"
    source    = "./grafana/provisioning"
    target    = "/etc/grafana/provisioning"
    read_only = false
  }
}

service "mythical-queue" {
  # envctl: healthcheck "rabbitmq-diagnostics check_running" is checked by envctl's amqp probe, from outside the container (the same question; no process per attempt in it)
  image = "rabbitmq:management"
  ports = {
    amqp = 5672
  }
  ready {
    amqp {
      port = "amqp"
    }
    timeout = "50s"
  }
}

service "mythical-database" {
  # envctl: healthcheck "pg_isready -U postgres" is checked by envctl's postgres probe, from outside the container (the same question; no process per attempt in it)
  image = "postgres:14.5"
  env = {
    POSTGRES_PASSWORD = "mythical"
  }
  ports = {
    pg = 5432
  }
  mount {
    type   = "volume"
    source = "postgres"
    target = "/var/lib/postgresql/data"
  }
  ready {
    postgres {
      port = "pg"
      user = "postgres"
    }
    timeout = "2m"
  }
}

service "mythical-requester" {
  image = "${var.COMPOSE_PROJECT_NAME}-requester:smoke"
  build {
    context    = "./source"
    dockerfile = "docker/Dockerfile"
    args = {
      SERVICE = "mythical-beasts-requester"
    }
  }
  depends_on = [service.mythical-queue, service.mythical-server]
  env = {
    LOGS_TARGET                        = "http://alloy:3100/loki/api/v1/push"
    NAMESPACE                          = "production"
    OTEL_EXPORTER_OTLP_TRACES_INSECURE = "true"
    OTEL_RESOURCE_ATTRIBUTES           = "ip=1.2.3.4"
    TRACING_COLLECTOR_HOST             = "alloy"
    TRACING_COLLECTOR_PORT             = "4317"
  }
}

service "mythical-server" {
  image = "${var.COMPOSE_PROJECT_NAME}-server:smoke"
  build {
    context    = "./source"
    dockerfile = "docker/Dockerfile"
    args = {
      SERVICE = "mythical-beasts-server"
    }
  }
  depends_on = [service.mythical-database]
  env = {
    ALWAYS_SUCCEED                     = "true"
    LOGS_TARGET                        = "http://alloy:3100/loki/api/v1/push"
    NAMESPACE                          = "production"
    OTEL_EXPORTER_OTLP_TRACES_INSECURE = "true"
    OTEL_RESOURCE_ATTRIBUTES           = "ip=1.2.3.5"
    TRACING_COLLECTOR_HOST             = "alloy"
    TRACING_COLLECTOR_PORT             = "4317"
  }
}

service "mythical-recorder" {
  image = "${var.COMPOSE_PROJECT_NAME}-recorder:smoke"
  build {
    context    = "./source"
    dockerfile = "docker/Dockerfile"
    args = {
      SERVICE = "mythical-beasts-recorder"
    }
  }
  depends_on = [service.mythical-queue]
  env = {
    LOGS_TARGET                        = "http://alloy:3100/loki/api/v1/push"
    NAMESPACE                          = "production"
    OTEL_EXPORTER_OTLP_TRACES_INSECURE = "true"
    OTEL_RESOURCE_ATTRIBUTES           = "ip=1.2.3.5"
    TRACING_COLLECTOR_HOST             = "alloy"
    TRACING_COLLECTOR_PORT             = "4317"
  }
}

service "tempo" {
  image   = "grafana/tempo:2.4.1"
  command = ["-config.file=/etc/tempo.yaml"]
  mount {
    type      = "bind"
    source    = "./tempo/tempo.yaml"
    target    = "/etc/tempo.yaml"
    read_only = false
  }
}

service "loki" {
  image   = "grafana/loki:3.0.0"
  command = ["--pattern-ingester.enabled=true", "-config.file=/etc/loki/loki.yaml"]
  mount {
    type      = "bind"
    source    = "./loki/loki.yaml"
    target    = "/etc/loki/loki.yaml"
    read_only = false
  }
}

service "mimir" {
  image   = "grafana/mimir:2.12.0"
  command = ["-ingester.native-histograms-ingestion-enabled=true", "-config.file=/etc/mimir.yaml"]
  mount {
    type      = "bind"
    source    = "./mimir/mimir.yaml"
    target    = "/etc/mimir.yaml"
    read_only = false
  }
}

service "k6" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image    = "grafana/k6"
  profiles = ["load"]
  command  = ["run", "-o", "experimental-prometheus-rw", "/scripts/mythical-loadtest.js"]
  env = {
    K6_DURATION                                = "3600s"
    K6_PROMETHEUS_RW_SERVER_URL                = "http://mimir:9009/api/v1/push"
    K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM = "true"
    K6_VUS                                     = "4"
  }
  mount {
    type      = "bind"
    source    = "./k6"
    target    = "/scripts"
    read_only = false
  }
}

service "pyroscope" {
  image   = "grafana/pyroscope:1.5.0"
  command = ["server"]
}

service "beyla-requester" {
  # envctl: pid is not supported; dropped (every service has its own PID namespace)
  image      = "grafana/beyla:1.5.3"
  command    = ["/beyla", "--config=/configs/config.yaml"]
  depends_on = [service.mythical-requester]
  env = {
    BEYLA_OPEN_PORT                    = "4001"
    BEYLA_PROMETHEUS_PORT              = "9090"
    BEYLA_SERVICE_NAMESPACE            = "mythical"
    OTEL_EXPORTER_OTLP_PROTOCOL        = "grpc"
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = "http://alloy:4317/"
    OTEL_EXPORTER_OTLP_TRACES_INSECURE = "true"
    OTEL_SERVICE_NAME                  = "beyla-mythical-requester"
  }
  cap_add = ["SYS_ADMIN"]
  mount {
    type      = "bind"
    source    = "./beyla"
    target    = "/configs"
    read_only = false
  }
}

service "beyla-server" {
  # envctl: pid is not supported; dropped (every service has its own PID namespace)
  image      = "grafana/beyla:1.5.3"
  command    = ["/beyla", "--config=/configs/config.yaml"]
  depends_on = [service.mythical-server]
  env = {
    BEYLA_OPEN_PORT                    = "4000"
    BEYLA_PROMETHEUS_PORT              = "9090"
    BEYLA_SERVICE_NAMESPACE            = "mythical"
    OTEL_EXPORTER_OTLP_PROTOCOL        = "grpc"
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = "http://alloy:4317/"
    OTEL_EXPORTER_OTLP_TRACES_INSECURE = "true"
    OTEL_SERVICE_NAME                  = "beyla-mythical-server"
  }
  cap_add = ["SYS_ADMIN"]
  mount {
    type      = "bind"
    source    = "./beyla"
    target    = "/configs"
    read_only = false
  }
}

service "beyla-recorder" {
  # envctl: pid is not supported; dropped (every service has its own PID namespace)
  image      = "grafana/beyla:1.5.3"
  command    = ["/beyla", "--config=/configs/config.yaml"]
  depends_on = [service.mythical-recorder]
  env = {
    BEYLA_OPEN_PORT                    = "4002"
    BEYLA_PROMETHEUS_PORT              = "9090"
    BEYLA_SERVICE_NAMESPACE            = "mythical"
    OTEL_EXPORTER_OTLP_PROTOCOL        = "grpc"
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = "http://alloy:4317/"
    OTEL_EXPORTER_OTLP_TRACES_INSECURE = "true"
    OTEL_SERVICE_NAME                  = "beyla-mythical-recorder"
  }
  cap_add = ["SYS_ADMIN"]
  mount {
    type      = "bind"
    source    = "./beyla"
    target    = "/configs"
    read_only = false
  }
}

service "mythical-frontend" {
  image = "${var.COMPOSE_PROJECT_NAME}-frontend:smoke"
  build {
    context    = "./source/mythical-beasts-frontend"
    dockerfile = "Dockerfile"
  }
}

service "smoke" {
  image       = "python:3.12-alpine"
  profiles    = ["test"]
  working_dir = "/tests"
  command     = ["python", "check.py"]
  env = {
    PYTHONDONTWRITEBYTECODE = "1"
    PYTHONUNBUFFERED        = "1"
  }
  mount {
    type   = "bind"
    source = "./tests/smoke"
    target = "/tests"
  }
}

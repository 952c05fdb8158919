# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-prometheus-grafana"
}

service "prometheus" {
  # envctl: ports: host side of 9090:9090 dropped; envctl publishes container port 9090 on an ephemeral host port (envctl env shows them)
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: volumes: ./etc/prometheus:/prometheus and prom_data:/prometheus both mount at /prometheus, which the engine refuses; kept prom_data:/prometheus
  image   = "prom/prometheus"
  command = ["--config.file=/etc/prometheus/prometheus.yml"]
  ports = {
    p9090 = 9090
  }
  mount {
    type   = "volume"
    source = "prom_data"
    target = "/prometheus"
  }
}

service "grafana" {
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  # envctl: restart unless-stopped is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "grafana/grafana"
  env = {
    GF_SECURITY_ADMIN_PASSWORD = "grafana"
    GF_SECURITY_ADMIN_USER     = "admin"
  }
  ports = {
    http = 3000
  }
  mount {
    type      = "bind"
    source    = "./grafana"
    target    = "/etc/grafana/provisioning/datasources"
    read_only = false
  }
}

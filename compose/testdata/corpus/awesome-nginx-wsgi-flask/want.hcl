# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-nginx-wsgi-flask"
}

service "nginx-proxy" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: ports: host side of 80:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  # envctl: healthcheck "curl --silent --fail localhost:80/health-check || exit 1" is checked by envctl's http probe, from outside the container (the same question; no process per attempt in it); the probe wants HTTP 200 where the command took any success: set status if the answer is another
  build {
    context = "./nginx"
  }
  command    = ["nginx", "-g", "daemon off;"]
  depends_on = [service.flask-app]
  ports = {
    http = 80
  }
  ready {
    http {
      port = "http"
      path = "/health-check"
    }
    timeout = "30s"
  }
}

service "flask-app" {
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: healthcheck "curl --silent --fail localhost:8000/flask-health-check || exit 1" is checked by envctl's http probe, from outside the container (the same question; no process per attempt in it); the probe wants HTTP 200 where the command took any success: set status if the answer is another
  build {
    context = "./flask"
  }
  command = ["gunicorn", "-w", "3", "-t", "60", "-b", "0.0.0.0:8000", "app:app"]
  ports = {
    http = 8000
  }
  ready {
    http {
      port = "http"
      path = "/flask-health-check"
    }
    timeout = "30s"
  }
}

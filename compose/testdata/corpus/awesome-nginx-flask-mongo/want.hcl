# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-nginx-flask-mongo"
}

service "web" {
  # envctl: ports: host side of 80:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  image      = "nginx"
  command    = ["/bin/bash", "-c", "envsubst < /tmp/nginx.conf > /etc/nginx/conf.d/default.conf && nginx -g 'daemon off;'"]
  depends_on = [service.backend]
  env = {
    FLASK_SERVER_ADDR = "backend:9091"
  }
  ports = {
    http = 80
  }
  mount {
    type      = "bind"
    source    = "./nginx/nginx.conf"
    target    = "/tmp/nginx.conf"
    read_only = false
  }
}

service "backend" {
  build {
    context = "./flask"
  }
  depends_on = [service.mongo]
  env = {
    FLASK_SERVER_PORT = "9091"
  }
  mount {
    type      = "bind"
    source    = "./flask"
    target    = "/src"
    read_only = false
  }
}

service "mongo" {
  image = "mongo"
}

# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-go-redis"
}

service "app" {
  # envctl: ports: host side of 8080:8080 dropped; envctl publishes container port 8080 on an ephemeral host port (envctl env shows them)
  build {
    context = "./app"
  }
  depends_on = [service.redis]
  env = {
    REDIS_ADDR = "redis:6379"
  }
  ports = {
    http = 8080
  }
}

service "redis" {
  image = "redis:7-alpine"
  mount {
    type   = "volume"
    source = "redis-data"
    target = "/data"
  }
}

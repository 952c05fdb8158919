# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-fastapi"
}

service "api" {
  # envctl: container_name fastapi-application is a network alias: envctl names the container ENVIRONMENT-api, and other services reach it as api or fastapi-application
  # envctl: ports: host side of 8000:8000 dropped; envctl publishes container port 8000 on an ephemeral host port (envctl env shows them)
  build {
    context = "."
  }
  env = {
    PORT = "8000"
  }
  ports = {
    http = 8000
  }
  aliases = ["fastapi-application"]
}

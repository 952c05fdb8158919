# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-django"
}

service "web" {
  # envctl: ports: host side of 8000:8000 dropped; envctl publishes container port 8000 on an ephemeral host port (envctl env shows them)
  build {
    context = "./app"
    target  = "builder"
  }
  ports = {
    http = 8000
  }
}

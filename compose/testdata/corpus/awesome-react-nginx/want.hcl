# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-react-nginx"
}

service "frontend" {
  # envctl: ports: host side of 80:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  build {
    context = "."
  }
  ports = {
    http = 80
  }
}

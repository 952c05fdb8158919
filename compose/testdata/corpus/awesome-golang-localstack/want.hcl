# Imported from docker-compose.yaml by envctl import compose.

environment {
  name = "awesome-golang-localstack"
}

service "localstack" {
  # envctl: ports: host side of 4566:4566 dropped; envctl publishes container port 4566 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 4571:4571 dropped; envctl publishes container port 4571 on an ephemeral host port (envctl env shows them)
  # envctl: volumes: /var/run/docker.sock:/var/run/docker.sock mounts the host path /var/run/docker.sock, outside the project; dropped (envctl mounts files and directories of the repository, relative to the environment file, copied in so that they work on any engine)
  image = "localstack/localstack:latest"
  env = {
    DEBUG    = "1"
    SERVICES = "s3,dynamodb,lambda"
  }
  ports = {
    p4566 = 4566
    p4571 = 4571
  }
  mount {
    type      = "bind"
    source    = "./localstack"
    target    = "/docker-entrypoint-initaws.d"
    read_only = false
  }
}

service "app" {
  # envctl: ports: host side of 8080:8080 dropped; envctl publishes container port 8080 on an ephemeral host port (envctl env shows them)
  # envctl: container_name golang_app is not supported; dropped (envctl names containers ENVIRONMENT-SERVICE, and golang_app cannot be a network alias: aliases are DNS-safe and not another service's name); other services reach it as app
  build {
    context    = "."
    dockerfile = "Dockerfile"
  }
  depends_on = [service.localstack]
  env = {
    S3_ACCESS_KEY    = "test"
    S3_ACCESS_KEY_ID = "test"
    S3_BUCKET        = "test-bucket"
    S3_ENDPOINT      = "http://localstack:4566"
    S3_REGION        = "us-east-1"
  }
  ports = {
    http = 8080
  }
}

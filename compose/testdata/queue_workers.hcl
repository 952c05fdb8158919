# Imported from queue_workers.yml by envctl import compose.

environment {
  name = "orders"
}

variable "APP_IMAGE" {
  type        = string
  default     = "example/orders:1.4"
  description = "Compose variable APP_IMAGE of queue_workers.yml"
}

variable "MQ_IMAGE" {
  type        = string
  default     = "rabbitmq:3-management"
  description = "Compose variable MQ_IMAGE of queue_workers.yml"
}

service "rabbitmq" {
  # envctl: ports: host side of 5672:5672 dropped; envctl publishes container port 5672 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 15672:15672 dropped; envctl publishes container port 15672 on an ephemeral host port (envctl env shows them)
  image   = var.MQ_IMAGE
  command = ["--tcp", "5672", "--http", "15672"]
  ports = {
    p5672  = 5672
    p15672 = 15672
  }
  ready {
    exec     = ["/testsvc", "probe", "tcp", "127.0.0.1:5672"]
    interval = "2s"
    timeout  = "35s"
  }
}

service "producer" {
  image      = var.APP_IMAGE
  command    = ["--log", "producing to amqp://rabbitmq:5672"]
  depends_on = [service.rabbitmq]
  env = {
    AMQP_URL = "amqp://guest:guest@rabbitmq:5672/"
    QUEUE    = "orders"
  }
}

service "worker" {
  # envctl: deploy.replicas 3: envctl runs one instance of a service; dropped
  image      = var.APP_IMAGE
  entrypoint = ["/testsvc", "--log", "worker up"]
  depends_on = [service.rabbitmq]
  env = {
    AMQP_URL    = "amqp://guest:guest@rabbitmq:5672/"
    CONCURRENCY = "4"
    QUEUE       = "orders"
  }
  resources {
    cpus   = 0.25
    memory = "64MiB"
  }
}

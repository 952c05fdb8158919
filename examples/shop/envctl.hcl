# The shop: five tiny services wired by envctl. One request to web travels
# web -> api -> store, places an order that worker processes, and reports the chain.
# Build the binaries first (make demo does): each Dockerfile copies ./app FROM scratch.

environment {
  name = "shop"
  ttl  = "4h"
}

variable "store_token" {
  type        = string
  default     = "shop-demo-token"
  sensitive   = true
  description = "bearer token the store requires from api, worker and migrate"
}

variable "schema_version" {
  type        = number
  default     = 1
  description = "schema version migrate sets and api requires"
}

locals {
  queue = "orders"

  # The catalogue migrate seeds, passed to it as JSON.
  products = [
    { id = "p1", name = "green tea", price_cents = 350 },
    { id = "p2", name = "black tea", price_cents = 300 },
    { id = "p3", name = "oolong", price_cents = 450 },
  ]

  store_labels = { team = "platform", tier = "data" }
}

# No ready block: store is ready when its declared port accepts TCP connections.
service "store" {
  build {
    context = "./store"
  }
  env = {
    STORE_TOKEN = var.store_token
  }
  ports = { http = 7000 }
  resources {
    cpus   = 0.25
    memory = "64MiB"
  }
  labels = local.store_labels
}

# A one-shot job: api waits until it has exited 0.
service "migrate" {
  build {
    context = "./migrate"
  }
  run     = "once"
  command = ["--store", "${service.store.host}:${service.store.ports.http}", "--schema", "${var.schema_version}"]
  env = {
    STORE_TOKEN   = var.store_token
    SEED_PRODUCTS = jsonencode(local.products)
  }
  resources {
    cpus   = 0.1
    memory = "32MiB"
  }
}

service "api" {
  build {
    context = "./api"
  }
  depends_on = [service.migrate]
  env = {
    STORE_ADDR      = "${service.store.host}:${service.store.ports.http}"
    STORE_TOKEN     = var.store_token
    REQUIRED_SCHEMA = "${var.schema_version}"
    QUEUE           = local.queue
  }
  ports = { http = 8080 }
  ready {
    http {
      port   = "http"
      path   = "/healthz"
      status = 200
    }
    timeout = "30s"
  }
  resources {
    cpus   = 0.25
    memory = "64MiB"
  }
  labels = { team = "checkout" }
}

# Ready once it has reached store and says so on stdout.
service "worker" {
  build {
    context = "./worker"
  }
  env = {
    STORE_ADDR  = "${service.store.host}:${service.store.ports.http}"
    STORE_TOKEN = var.store_token
    QUEUE       = local.queue
  }
  ports = { http = 8081 }
  ready {
    log     = "consuming orders from queue ${local.queue}"
    timeout = "30s"
  }
  resources {
    cpus   = 0.25
    memory = "64MiB"
  }
  labels = { team = "fulfilment" }
}

service "web" {
  build {
    context = "./web"
  }
  env = {
    API_ADDR    = "${service.api.host}:${service.api.ports.http}"
    WORKER_ADDR = "${service.worker.host}:${service.worker.ports.http}"
  }
  ports = { http = 8000 }
  ready {
    http {
      port = "http"
      path = "/healthz"
    }
  }
  resources {
    cpus   = 0.25
    memory = "64MiB"
  }
  labels = { team = "storefront" }
}

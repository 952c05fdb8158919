# A datastore with the things real stacks need (issue 11): an init script mounted from the
# repository, a named volume whose data survives a recreation of its service and goes with
# `envctl down`, a tmpfs, a secret file, an env file, a build target of a multi-stage
# Dockerfile, and a service only `--profile debug` brings up.
# Build the binary first: make examples (or CGO_ENABLED=0 go build -o examples/stack/kv/app ./examples/stack/kv).

environment {
  name = "stack"
}

variable "kv_password" {
  default   = "kv-demo-password"
  sensitive = true
}

# Change it (--var revision=2) to change the store's configuration: up recreates the store,
# and its data is still there.
variable "revision" {
  default = "1"
}

service "store" {
  build {
    context = "./kv"
    target  = "release"
  }
  command  = ["store"]
  env_file = ["./store.env"]
  env = {
    KV_PASSWORD_FILE = "/run/secrets/kv_password"
    REVISION         = var.revision
  }
  ports = { http = 7000 }
  mount {
    type   = "bind"
    source = "./init/schema.kv"
    target = "/docker-entrypoint-initdb.d/schema.kv"
  }
  mount {
    type   = "volume"
    source = "store-data"
    target = "/data"
  }
  mount {
    type   = "tmpfs"
    target = "/tmp/cache"
    size   = "16MiB"
  }
  secret "kv_password" {
    value = var.kv_password
    mode  = "0400"
  }
  ready {
    http {
      port = "http"
      path = "/healthz"
    }
  }
}

service "front" {
  build {
    context = "./kv"
    target  = "release"
  }
  command = ["front"]
  env = {
    STORE_URL        = "http://${service.store.host}:${service.store.ports.http}"
    KV_PASSWORD_FILE = "/run/secrets/kv_password"
  }
  ports = { http = 8080 }
  secret "kv_password" {
    value = var.kv_password
  }
  ready {
    http {
      port = "http"
      path = "/healthz"
    }
  }
}

# Only with --profile debug (or ENVCTL_PROFILES=debug): the front built from the debug stage.
service "debug" {
  profiles = ["debug"]
  build {
    context = "./kv"
    target  = "debug"
  }
  command = ["front"]
  env = {
    STORE_URL        = "http://${service.store.host}:${service.store.ports.http}"
    KV_PASSWORD_FILE = "/run/secrets/kv_password"
  }
  ports = { http = 8080 }
  secret "kv_password" {
    value = var.kv_password
  }
}

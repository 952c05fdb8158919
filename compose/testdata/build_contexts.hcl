# Imported from build_contexts.yml by envctl import compose.

environment {
  name = "testdata"
}

variable "BASE_IMAGE" {
  type        = string
  default     = "golang:1.22"
  description = "Compose variable BASE_IMAGE of build_contexts.yml"
}

service "app" {
  image = "envctl-test/compose-import-app:dev"
  build {
    context = "./ctx/app"
  }
  command = ["--http", "3000"]
  ports = {
    http = 3000
  }
}

service "worker" {
  build {
    context    = "./ctx/worker"
    dockerfile = "Dockerfile.worker"
    args = {
      BASE    = var.BASE_IMAGE
      VERSION = "1.0"
    }
    target     = "runtime"
    cache_from = ["example/worker:cache"]
  }
  command    = ["--log", "worker ready"]
  depends_on = [service.app]
}

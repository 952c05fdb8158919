# Imported from extensions.yml by envctl import compose.
# envctl: version is obsolete in Compose and ignored
# envctl: x-logging is an extension field; ignored
# envctl: x-app is an extension field; ignored

environment {
  name = "testdata"
}

variable "IMAGE" {
  type        = string
  default     = "example/app:1"
  description = "Compose variable IMAGE of extensions.yml"
}

service "payments" {
  # envctl: logging is not supported; dropped (the engine's default log driver is kept so that envctl logs can read the output)
  # envctl: x-owner is an extension field; ignored
  image   = var.IMAGE
  command = ["--http", "8080"]
  env = {
    APP_ENV = "test"
    TZ      = "UTC"
  }
  labels = {
    "com.example.team" = "payments"
  }
}

service "ledger" {
  # envctl: logging is not supported; dropped (the engine's default log driver is kept so that envctl logs can read the output)
  image      = var.IMAGE
  command    = ["--http", "8081"]
  depends_on = [service.payments]
  env = {
    APP_ENV = "ledger"
    TZ      = "UTC"
  }
  labels = {
    "com.example.team" = "ledger"
    "com.example.tier" = "data"
  }
}

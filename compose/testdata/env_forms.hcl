# Imported from env_forms.yml by envctl import compose.

environment {
  name = "testdata"
}

variable "API_TOKEN" {
  type        = string
  description = "API_TOKEN of service app: Compose takes it from the shell's environment"
  sensitive   = true
}

variable "DATABASE_URL" {
  type        = string
  description = "Compose variable DATABASE_URL of env_forms.yml: set DATABASE_URL to the test database"
}

variable "HOME_DIR" {
  type        = string
  description = "HOME_DIR of service sidecar: Compose takes it from the shell's environment"
}

variable "IMAGE" {
  type        = string
  description = "Compose variable IMAGE of env_forms.yml"
}

variable "LOG_LEVEL" {
  type        = string
  default     = "info"
  description = "Compose variable LOG_LEVEL of env_forms.yml"
}

variable "SENTRY_DSN" {
  type        = string
  default     = ""
  description = "Compose variable SENTRY_DSN of env_forms.yml"
}

service "app" {
  # envctl: environment API_TOKEN has no value (Compose takes it from the shell); it is now variable API_TOKEN: set it with --var API_TOKEN=VALUE or ENVCTL_VAR_API_TOKEN
  image   = var.IMAGE
  command = ["--http", "8080"]
  env = {
    API_TOKEN    = var.API_TOKEN
    DATABASE_URL = var.DATABASE_URL
    DEBUG        = "false"
    GREETING     = "hello world"
    LOG_LEVEL    = var.LOG_LEVEL
    PRICE_FORMAT = "$%.2f"
    SENTRY_DSN   = var.SENTRY_DSN != "" ? "https://sentry.example.com/${var.SENTRY_DSN}" : ""
    WORKERS      = "4"
  }
}

service "sidecar" {
  # envctl: environment HOME_DIR has no value (Compose takes it from the shell); it is now variable HOME_DIR: set it with --var HOME_DIR=VALUE or ENVCTL_VAR_HOME_DIR
  image   = var.IMAGE
  command = ["--tcp", "9000"]
  env = {
    EMPTY     = ""
    HOME_DIR  = var.HOME_DIR
    LOG_LEVEL = var.LOG_LEVEL
    UPSTREAM  = "http://app:8080"
  }
  ports = {
    p9000 = 9000
  }
}

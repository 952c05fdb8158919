# Imported from command_forms.yml by envctl import compose.

environment {
  name = "testdata"
}

variable "GREETING" {
  type        = string
  default     = "hi there"
  description = "Compose variable GREETING of command_forms.yml"
}

variable "IMAGE" {
  type        = string
  default     = "busybox"
  description = "Compose variable IMAGE of command_forms.yml"
}

service "quoted" {
  image   = var.IMAGE
  command = ["--log", "hello \"quoted\" world", "--log", "a \"b\" c", "--http", "8080"]
}

service "listed" {
  image      = var.IMAGE
  entrypoint = ["/testsvc", "--name", "listed"]
  command    = ["--http", "8081", "--log", "two words"]
}

service "shellish" {
  image      = var.IMAGE
  entrypoint = ["/testsvc", "--name", "shellish"]
  command    = ["--tcp", "7070", "--log", var.GREETING]
}

# One DATABASE_URL, written once as a local built from the database's address, used by two
# services' env and by a job's command (issue 18, acceptance 3). Each of them connects with it
# once, without retries: the stack is up only if every one got the real address.
variable "db_password" {
  default   = "app-secret"
  sensitive = true
}

locals {
  db_addr      = "${service.db.host}:${service.db.ports.pg}"
  database_url = "postgres://app:${var.db_password}@${local.db_addr}/app"
}

service "db" {
  image       = "envctl-real/postgres:15"
  env         = { POSTGRES_USER = "app", POSTGRES_PASSWORD = var.db_password, POSTGRES_DB = "app" }
  ports       = { pg = 5432 }
  stop_signal = "SIGINT"
  ready {
    postgres {
      port     = "pg"
      user     = "app"
      database = "app"
    }
    timeout = "2m"
  }
}

# The job gets the URL in its command.
service "migrate" {
  image      = "envctl-real/postgres:15"
  run        = "once"
  entrypoint = ["psql"]
  command    = [local.database_url, "-v", "ON_ERROR_STOP=1", "-c", "CREATE TABLE seen (who text)"]
}

# Two services get it in their env.
service "api" {
  image      = "envctl-real/postgres:15"
  run        = "once"
  depends_on = [service.migrate]
  env        = { DATABASE_URL = local.database_url, WHO = "api" }
  entrypoint = ["bash", "-c", "psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -c \"INSERT INTO seen VALUES ('$WHO')\""]
}

service "worker" {
  image      = "envctl-real/postgres:15"
  run        = "once"
  depends_on = [service.migrate]
  env        = { DATABASE_URL = local.database_url, WHO = "worker" }
  entrypoint = ["bash", "-c", "psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -c \"INSERT INTO seen VALUES ('$WHO')\""]
}

# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-odoo-postgres"
}

service "odoo" {
  # envctl: platform is not supported; dropped (envctl runs the engine's own platform)
  # envctl: tty is not supported; dropped (services run without a terminal; envctl exec ENV SERVICE -- CMD gives one)
  # envctl: stdin_open is not supported; dropped (services run without stdin; envctl exec ENV SERVICE -- CMD gives one)
  # envctl: ports: host side of 8069:8069 dropped; envctl publishes container port 8069 on an ephemeral host port (envctl env shows them)
  image      = "odoo:16.0"
  depends_on = [service.postgres]
  env = {
    HOST = "postgres"
  }
  ports = {
    p8069 = 8069
  }
  mount {
    type   = "volume"
    source = "odoo-data"
    target = "/var/lib/odoo"
  }
  mount {
    type      = "bind"
    source    = "./conf"
    target    = "/etc/odoo"
    read_only = false
  }
  mount {
    type      = "bind"
    source    = "./extra-addons"
    target    = "/mnt/extra-addons"
    read_only = false
  }
}

service "postgres" {
  # envctl: platform is not supported; dropped (envctl runs the engine's own platform)
  # envctl: ports: host side of 5432:5432 dropped; envctl publishes container port 5432 on an ephemeral host port (envctl env shows them)
  image = "postgres:14.5"
  env = {
    PGDATA            = "/var/lib/postgresql/data/pgdata"
    POSTGRES_DB       = "postgres"
    POSTGRES_PASSWORD = "odoo"
    POSTGRES_USER     = "odoo"
  }
  ports = {
    p5432 = 5432
  }
  mount {
    type   = "volume"
    source = "psql-data"
    target = "/var/lib/postgresql/data/pgdata"
  }
}

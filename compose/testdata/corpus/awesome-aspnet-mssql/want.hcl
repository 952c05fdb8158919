# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-aspnet-mssql"
}

service "web" {
  # envctl: ports: host side of 80:80 dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  build {
    context = "./app/aspnetapp"
  }
  ports = {
    http = 80
  }
}

service "db" {
  # envctl: ports: host side of 1433:1433 dropped; envctl publishes container port 1433 on an ephemeral host port (envctl env shows them)
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image = "mcr.microsoft.com/azure-sql-edge:1.0.4"
  env = {
    ACCEPT_EULA       = "Y"
    MSSQL_SA_PASSWORD = "example_123"
  }
  ports = {
    p1433 = 1433
  }
  ready {
    exec            = ["/bin/sh", "-c", "/opt/mssql-tools/bin/sqlcmd -S localhost -U sa -P example_123 -Q 'SELECT 1' || exit 1"]
    interval        = "10s"
    timeout         = "1m50s"
    attempt_timeout = "3s"
  }
}

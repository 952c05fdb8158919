# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-rails-postgres"
}

service "app" {
  # envctl: ports: host side of 3000:3000 dropped; envctl publishes container port 3000 on an ephemeral host port (envctl env shows them)
  build {
    context = "./app"
  }
  command    = ["bash", "-c", "bundle exec rails db:migrate && bundle exec rails server -b 0.0.0.0"]
  depends_on = [service.database]
  ports = {
    http = 3000
  }
}

service "database" {
  image = "postgres:14"
  env = {
    POSTGRES_DB       = "app_development"
    POSTGRES_PASSWORD = "password"
  }
  mount {
    type   = "volume"
    source = "postgres"
    target = "/var/lib/postgresql/data"
  }
}

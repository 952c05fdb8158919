# attacks: ready.exec given a string, not argv
service "api" {
  image = "api:1"
  ready {
    exec = "pg_isready -U x"
  }
}

# attacks: a heredoc opener without a marker
service "api" {
  image = <<
api:1
}

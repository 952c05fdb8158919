# attacks: a heredoc whose end marker never comes
service "api" {
  image = <<EOT
api:1
}

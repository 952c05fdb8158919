# attacks: a traversal ending in a dot
service "api" {
  image = var.
}

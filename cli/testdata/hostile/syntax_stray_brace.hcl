# attacks: a closing brace with no block to close
service "api" {
  image = "api:1"
}
}

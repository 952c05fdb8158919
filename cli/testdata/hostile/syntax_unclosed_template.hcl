# attacks: an interpolation ${ that is never closed
service "api" {
  image = "api:${var.tag"
}

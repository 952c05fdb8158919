# attacks: a no-break space used as whitespace
service "api" {
  image = "api:1"
}

# attacks: a number with an exponent but no digits
service "api" {
  image = "api:1"
  ports = { http = 1e }
}

# attacks: a port number of 2^64
service "api" {
  image = "api:1"
  ports = { http = 18446744073709551616 }
}

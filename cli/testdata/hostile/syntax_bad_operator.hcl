# attacks: two binary operators in a row
service "api" {
  image = "api:1"
  ports = { http = 8000 +* 80 }
}

# attacks: a service name in fullwidth letters
service "ａｐｉ" {
  image = "api:1"
}

# attacks: a service name with a right-to-left override
service "ip‮a" {
  image = "api:1"
}

# attacks: a TTL that overflows a duration
environment {
  ttl = "9999999999999999h"
}
service "api" {
  image = "api:1"
}

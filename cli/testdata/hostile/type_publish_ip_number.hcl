# attacks: publish_ip given a number
service "api" {
  image = "api:1"
  publish_ip = 127001
}

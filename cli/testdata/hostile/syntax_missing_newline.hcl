# attacks: two attributes on one line
service "api" {
  image = "api:1" run = "once"
}

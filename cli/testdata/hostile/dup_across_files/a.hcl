# attacks: one service name declared in two files of one directory
service "api" {
  image = "api:1"
}

# attacks: a format verb with a width of a billion
service "api" {
  image = "api:1"
  command = [format("%999999999d", 1)]
}

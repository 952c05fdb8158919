# attacks: a format verb with a huge precision
service "api" {
  image = "api:1"
  command = [format("%.999999999f", 1)]
}

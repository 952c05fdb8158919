# attacks: formatlist with a huge width
service "api" {
  image = "api:1"
  command = formatlist("%999999999s", ["a", "b"])
}

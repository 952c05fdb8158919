# attacks: a service block with two labels
service "api" "v2" {
  image = "api:1"
}

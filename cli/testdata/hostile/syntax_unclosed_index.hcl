# attacks: an index whose closing bracket never comes
service "api" {
  image = ["api:1"][0
}

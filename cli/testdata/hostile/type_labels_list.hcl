# attacks: labels given a list
service "api" {
  image = "api:1"
  labels = ["team=a"]
}

# attacks: command given a list of lists
service "api" {
  image = "api:1"
  command = [["serve"]]
}

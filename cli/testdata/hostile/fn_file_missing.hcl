# attacks: file() of a file that does not exist
service "api" {
  image = "api:1"
  env = { A = file("no-such-file.txt") }
}

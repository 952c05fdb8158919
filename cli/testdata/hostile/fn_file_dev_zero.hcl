# attacks: file() of /dev/zero, an endless file
service "api" {
  image = "api:1"
  env = { A = file("/dev/zero") }
}

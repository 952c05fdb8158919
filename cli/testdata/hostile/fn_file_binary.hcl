# attacks: file() of a binary file
service "api" {
  image = "api:1"
  env = { A = file("bin_png.hcl") }
}

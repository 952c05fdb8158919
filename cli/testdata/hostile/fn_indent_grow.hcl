# attacks: indent of a many-line string by a huge count
locals {
  a = join("\n", range(1024))
}
service "api" {
  image = "api:1"
  env = { A = indent(999999999, local.a) }
}

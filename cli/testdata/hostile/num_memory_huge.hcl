# attacks: a memory size that overflows int64
service "api" {
  image = "api:1"
  resources {
    memory = "99999999999999999999TiB"
  }
}

# attacks: setproduct of three 1024-element lists (a billion tuples)
service "api" {
  image = "api:1"
  command = [for p in setproduct(range(1024), range(1024), range(1024)) : "x"]
}

# attacks: three nested for expressions over range(1024)
service "api" {
  image = "api:1"
  command = flatten([for i in range(1024) : [for j in range(1024) : [for k in range(1024) : "x"]]])
}

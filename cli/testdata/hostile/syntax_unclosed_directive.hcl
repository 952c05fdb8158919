# attacks: a template directive %{ if } without %{ endif }
service "api" {
  image = "api:%{ if true }x"
}

# attacks: a \u escape that is not a Unicode scalar (a lone surrogate)
service "api" {
  image = "api\ud800"
}

# attacks: a variable type keyword that does not exist
variable "tag" {
  type = strnig
}
service "api" {
  image = "api:1"
}

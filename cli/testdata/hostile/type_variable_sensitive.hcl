# attacks: variable.sensitive given a word
variable "pw" {
  default   = "x"
  sensitive = "yes"
}
service "api" {
  image = "api:1"
}

# attacks: a block label that is a number, not a string
service 42 {
  image = "api:1"
}

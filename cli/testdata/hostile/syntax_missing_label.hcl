# attacks: a service block without its name label
service {
  image = "api:1"
}

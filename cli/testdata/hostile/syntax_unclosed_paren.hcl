# attacks: a function call whose closing parenthesis never comes
service "api" {
  image = upper("api:1"
}

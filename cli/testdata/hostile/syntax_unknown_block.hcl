# attacks: a misspelt top-level block type
servce "api" {
  image = "api:1"
}

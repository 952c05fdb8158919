# attacks: an attribute name with a Cyrillic і that looks like a Latin i
service "api" {
  іmage = "api:1"
}

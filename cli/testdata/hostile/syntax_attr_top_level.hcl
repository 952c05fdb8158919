# attacks: a service attribute at the top level of the file
image = "api:1"

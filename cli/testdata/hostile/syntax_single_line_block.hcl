# attacks: a single-line block with two attributes
service "api" { image = "api:1" run = "once" }

# The smallest environment: one service built from ./hello (build its binary first:
# CGO_ENABLED=0 go build -trimpath -o examples/minimal/hello/app ./examples/minimal/hello).

service "hello" {
  build {
    context = "./hello"
  }
  env = {
    GREETING = "hello from envctl"
  }
  ports = { http = 8080 }
  ready {
    http {
      port = "http"
      path = "/healthz"
    }
  }
}

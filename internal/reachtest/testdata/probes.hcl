# Every probe kind, for envctl running where it cannot dial the containers. "late" listens
# only after 2 s: a probe that went through Docker's userland proxy (which accepts before the
# service listens) would call it ready at once.
variable "img" {}
service "http" {
  image   = var.img
  command = ["--http", "8080", "--delay", "300ms", "--health-status", "204"]
  ports   = { web = 8080 }
  ready {
    http {
      port   = "web"
      path   = "/healthz"
      status = 204
    }
  }
}
service "tcp" {
  image   = var.img
  command = ["--tcp", "5432", "--delay", "300ms"]
  ports   = { db = 5432 }
  ready {
    tcp = "db"
  }
}
service "exec" {
  image   = var.img
  command = ["--http", "9000", "--delay", "300ms"]
  ready {
    exec = ["/testsvc", "probe", "http", "http://127.0.0.1:9000/healthz"]
  }
}
service "log" {
  image   = var.img
  command = ["--delay", "300ms", "--log", "booting", "--log", "accepting connections"]
  ready {
    log = "accepting conn.*"
  }
}
service "job" {
  image   = var.img
  run     = "once"
  command = ["--delay", "200ms", "--exit", "0"]
}
service "late" {
  image   = var.img
  command = ["--http", "80", "--tcp", "81", "--delay", "2s"]
  ports   = { a = 80, b = 81 }
}

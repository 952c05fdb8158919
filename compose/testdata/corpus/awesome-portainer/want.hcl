# Imported from docker-compose.yaml by envctl import compose.
# envctl: version is obsolete in Compose and ignored

environment {
  name = "awesome-portainer"
}

service "portainer" {
  # envctl: ports: host side of 9000:9000 dropped; envctl publishes container port 9000 on an ephemeral host port (envctl env shows them)
  # envctl: volumes: /var/run/docker.sock:/var/run/docker.sock mounts the host path /var/run/docker.sock, outside the project; dropped (envctl mounts files and directories of the repository, relative to the environment file, copied in so that they work on any engine)
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image   = "portainer/portainer-ce:alpine"
  command = ["-H", "unix:///var/run/docker.sock"]
  ports = {
    p9000 = 9000
  }
  mount {
    type   = "volume"
    source = "portainer_data"
    target = "/data"
  }
}

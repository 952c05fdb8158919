# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-minecraft"
}

service "minecraft" {
  # envctl: ports: host side of 25565:25565 dropped; envctl publishes container port 25565 on an ephemeral host port (envctl env shows them)
  # envctl: volumes: ~/minecraft_data:/data mounts a path of the home directory; dropped (envctl mounts files and directories of the repository, relative to the environment file)
  image = "itzg/minecraft-server"
  env = {
    EULA = "TRUE"
  }
  ports = {
    p25565 = 25565
  }
  resources {
    memory = "1536MiB"
  }
}

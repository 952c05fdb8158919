# Imported from compose.yaml by envctl import compose.
# envctl: version is obsolete in Compose and ignored
# envctl: top-level networks are not supported; dropped (dns-net): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-pihole-cloudflared-doh"
}

variable "PIHOLE_HOST_IP" {
  type        = string
  description = "Compose variable PIHOLE_HOST_IP of compose.yaml"
}

variable "PIHOLE_HOST_IPV6" {
  type        = string
  description = "Compose variable PIHOLE_HOST_IPV6 of compose.yaml"
}

variable "PIHOLE_NETWORK_DOMAIN" {
  type        = string
  description = "Compose variable PIHOLE_NETWORK_DOMAIN of compose.yaml"
}

variable "PIHOLE_PW" {
  type        = string
  description = "Compose variable PIHOLE_PW of compose.yaml"
  sensitive   = true
}

variable "PIHOLE_REVERSE_DNS" {
  type        = string
  description = "Compose variable PIHOLE_REVERSE_DNS of compose.yaml"
}

variable "PIHOLE_ROUTER_IP" {
  type        = string
  description = "Compose variable PIHOLE_ROUTER_IP of compose.yaml"
}

variable "TIMEZONE" {
  type        = string
  description = "Compose variable TIMEZONE of compose.yaml"
}

service "cloudflared" {
  # envctl: ports: host side of 5054:5054/tcp dropped; envctl publishes container port 5054 on an ephemeral host port (envctl env shows them)
  # envctl: ports: 5054:5054/udp is udp; envctl ports are TCP; dropped
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  # envctl: networks.dns-net.ipv4_address is not supported; dropped (addresses come from the environment's network, and services reach each other by name)
  image = "visibilityspots/cloudflared"
  env = {
    ADDRESS = "0.0.0.0"
    PORT    = "5054"
    TZ      = var.TIMEZONE
  }
  ports = {
    p5054 = 5054
  }
}

service "pihole" {
  # envctl: ports: host side of 53:53/tcp dropped; envctl publishes container port 53 on an ephemeral host port (envctl env shows them)
  # envctl: ports: 53:53/udp is udp; envctl ports are TCP; dropped
  # envctl: ports: 67:67/udp is udp; envctl ports are TCP; dropped
  # envctl: ports: host side of 8080:80/tcp dropped; envctl publishes container port 80 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 8443:443/tcp dropped; envctl publishes container port 443 on an ephemeral host port (envctl env shows them)
  # envctl: volumes: /etc/pihole/:/etc/pihole/ mounts the host path /etc/pihole/, outside the project; dropped (envctl mounts files and directories of the repository, relative to the environment file, copied in so that they work on any engine)
  # envctl: volumes: /etc/dnsmasq.d/:/etc/dnsmasq.d/ mounts the host path /etc/dnsmasq.d/, outside the project; dropped (envctl mounts files and directories of the repository, relative to the environment file, copied in so that they work on any engine)
  # envctl: restart always is not supported; dropped (envctl does not restart services; a service that exits fails up, and dependents wait for readiness instead of restarting until their dependencies answer)
  image      = "pihole/pihole:latest"
  depends_on = [service.cloudflared]
  env = {
    PIHOLE_DNS_       = "172.20.0.2#5054;1.1.1.1"
    REV_SERVER        = "true"
    REV_SERVER_CIDR   = var.PIHOLE_REVERSE_DNS
    REV_SERVER_DOMAIN = var.PIHOLE_NETWORK_DOMAIN
    REV_SERVER_TARGET = var.PIHOLE_ROUTER_IP
    ServerIP          = var.PIHOLE_HOST_IP
    ServerIPv6        = var.PIHOLE_HOST_IPV6
    TZ                = var.TIMEZONE
    WEBPASSWORD       = var.PIHOLE_PW
  }
  ports = {
    p53   = 53
    http  = 80
    https = 443
  }
  cap_add = ["NET_ADMIN"]
}

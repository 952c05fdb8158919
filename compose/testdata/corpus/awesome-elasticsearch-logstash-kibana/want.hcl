# Imported from compose.yaml by envctl import compose.
# envctl: top-level networks are not supported; dropped (elastic): every service is on the environment's own network, where all of them reach each other by name

environment {
  name = "awesome-elasticsearch-logstash-kibana"
}

service "elasticsearch" {
  # envctl: container_name es is a network alias: envctl names the container ENVIRONMENT-elasticsearch, and other services reach it as elasticsearch or es
  # envctl: ports: host side of 9200:9200 dropped; envctl publishes container port 9200 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 9300:9300 dropped; envctl publishes container port 9300 on an ephemeral host port (envctl env shows them)
  # envctl: healthcheck "curl --silent --fail localhost:9200/_cluster/health || exit 1" is checked by envctl's http probe, from outside the container (the same question; no process per attempt in it); the probe wants HTTP 200 where the command took any success: set status if the answer is another
  image = "elasticsearch:7.16.1"
  env = {
    ES_JAVA_OPTS     = "-Xms512m -Xmx512m"
    "discovery.type" = "single-node"
  }
  ports = {
    p9200 = 9200
    p9300 = 9300
  }
  aliases = ["es"]
  ready {
    http {
      port = "p9200"
      path = "/_cluster/health"
    }
    timeout = "30s"
  }
}

service "logstash" {
  # envctl: container_name log is a network alias: envctl names the container ENVIRONMENT-logstash, and other services reach it as logstash or log
  # envctl: ports: host side of 5000:5000/tcp dropped; envctl publishes container port 5000 on an ephemeral host port (envctl env shows them)
  # envctl: ports: 5000:5000/udp is udp; envctl ports are TCP; dropped
  # envctl: ports: host side of 5044:5044 dropped; envctl publishes container port 5044 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 9600:9600 dropped; envctl publishes container port 9600 on an ephemeral host port (envctl env shows them)
  image      = "logstash:7.16.1"
  command    = ["logstash", "-f", "/usr/share/logstash/pipeline/logstash-nginx.config"]
  depends_on = [service.elasticsearch]
  env = {
    LS_JAVA_OPTS           = "-Xms512m -Xmx512m"
    "discovery.seed_hosts" = "logstash"
  }
  ports = {
    http  = 5000
    p5044 = 5044
    p9600 = 9600
  }
  aliases = ["log"]
  mount {
    type      = "bind"
    source    = "./logstash/pipeline/logstash-nginx.config"
    target    = "/usr/share/logstash/pipeline/logstash-nginx.config"
    read_only = false
  }
  mount {
    type      = "bind"
    source    = "./logstash/nginx.log"
    target    = "/home/nginx.log"
    read_only = false
  }
}

service "kibana" {
  # envctl: container_name kib is a network alias: envctl names the container ENVIRONMENT-kibana, and other services reach it as kibana or kib
  # envctl: ports: host side of 5601:5601 dropped; envctl publishes container port 5601 on an ephemeral host port (envctl env shows them)
  image      = "kibana:7.16.1"
  depends_on = [service.elasticsearch]
  ports = {
    p5601 = 5601
  }
  aliases = ["kib"]
}

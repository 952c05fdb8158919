# Imported from compose.yaml by envctl import compose.

environment {
  name = "awesome-alfresco"
}

service "postgres" {
  # envctl: healthcheck "pg_isready" is checked by envctl's postgres probe, from outside the container (the same question; no process per attempt in it)
  image   = "postgres:15.7"
  command = ["postgres", "-c", "max_connections=300", "-c", "log_min_messages=LOG"]
  env = {
    PGUSER            = "alfresco"
    POSTGRES_DB       = "alfresco"
    POSTGRES_PASSWORD = "alfresco"
    POSTGRES_USER     = "alfresco"
  }
  ports = {
    pg = 5432
  }
  mount {
    type   = "volume"
    source = "postgres-data"
    target = "/var/lib/postgresql/data"
  }
  ready {
    postgres {
      port = "pg"
    }
    timeout = "50s"
  }
}

service "activemq" {
  image = "docker.io/alfresco/alfresco-activemq:5.18-jre17-rockylinux8"
  env = {
    ACTIVEMQ_ADMIN_LOGIN    = "admin"
    ACTIVEMQ_ADMIN_PASSWORD = "admin"
  }
  mount {
    type   = "volume"
    source = "activemq-data"
    target = "/opt/activemq/data"
  }
  ready {
    exec            = ["curl", "-f", "--user", "admin:admin", "http://localhost:8161/admin"]
    interval        = "10s"
    timeout         = "50s"
    attempt_timeout = "5s"
  }
}

service "transform-core-aio" {
  # envctl: healthcheck "curl -f http://localhost:8090/actuator/health" is checked by envctl's http probe, from outside the container (the same question; no process per attempt in it); the probe wants HTTP 200 where the command took any success: set status if the answer is another
  image      = "docker.io/alfresco/alfresco-transform-core-aio:5.1.2"
  depends_on = [service.activemq]
  env = {
    ACTIVEMQ_PASSWORD = "admin"
    ACTIVEMQ_URL      = "nio://activemq:61616"
    ACTIVEMQ_USER     = "admin"
    JAVA_OPTS         = "-Dserver.tomcat.threads.min=4         -Dserver.tomcat.threads.max=12 -XX:MinRAMPercentage=50 -XX:MaxRAMPercentage=80"
  }
  ports = {
    http = 8090
  }
  ready {
    http {
      port = "http"
      path = "/actuator/health"
    }
    timeout = "1m30s"
  }
}

service "alfresco" {
  # envctl: healthcheck "curl -f http://localhost:8080/alfresco/api/-default-/public/alfresco/versions/1/probes/-ready-" is checked by envctl's http probe, from outside the container (the same question; no process per attempt in it); the probe wants HTTP 200 where the command took any success: set status if the answer is another
  image      = "docker.io/alfresco/alfresco-content-repository-community:23.2.1"
  depends_on = [service.postgres, service.activemq, service.transform-core-aio]
  env = {
    JAVA_OPTS         = "-Ddb.driver=org.postgresql.Driver -Ddb.url=jdbc:postgresql://postgres:5432/alfresco -Dsolr.host=solr6 -Dsolr.secureComms=secret -Dsolr.sharedSecret=secret -Dindex.subsystem.name=solr6 -Dcsrf.filter.enabled=false -Dmessaging.broker.url=\"failover:(nio://activemq:61616)?timeout=3000&jms.useCompression=true\" -DlocalTransform.core-aio.url=http://transform-core-aio:8090/ -Ddeployment.method=DOCKER_COMPOSE -XX:MinRAMPercentage=50 -XX:MaxRAMPercentage=80"
    JAVA_TOOL_OPTIONS = "-Dencryption.keystore.type=JCEKS -Dencryption.cipherAlgorithm=DESede/CBC/PKCS5Padding -Dencryption.keyAlgorithm=DESede -Dencryption.keystore.location=/usr/local/tomcat/shared/classes/alfresco/extension/keystore/keystore -Dmetadata-keystore.password=mp6yc0UD9e -Dmetadata-keystore.aliases=metadata -Dmetadata-keystore.metadata.password=oKIWzVdEdA -Dmetadata-keystore.metadata.algorithm=DESede"
  }
  ports = {
    http = 8080
  }
  mount {
    type   = "volume"
    source = "alf-repo-data"
    target = "/usr/local/tomcat/alf_data"
  }
  ready {
    http {
      port = "http"
      path = "/alfresco/api/-default-/public/alfresco/versions/1/probes/-ready-"
    }
    timeout = "2m30s"
  }
}

service "solr6" {
  image      = "docker.io/alfresco/alfresco-search-services:2.0.10"
  depends_on = [service.alfresco]
  env = {
    ALFRESCO_SECURE_COMMS         = "secret"
    JAVA_TOOL_OPTIONS             = "-Dalfresco.secureComms.secret=secret"
    SOLR_ALFRESCO_HOST            = "alfresco"
    SOLR_ALFRESCO_PORT            = "8080"
    SOLR_CREATE_ALFRESCO_DEFAULTS = "alfresco"
    SOLR_SOLR_HOST                = "solr6"
    SOLR_SOLR_PORT                = "8983"
  }
  mount {
    type   = "volume"
    source = "solr-data"
    target = "/opt/alfresco-search-services/data"
  }
}

service "share" {
  image      = "docker.io/alfresco/alfresco-share:23.2.1"
  depends_on = [service.alfresco]
  env = {
    JAVA_OPTS = "-XX:MinRAMPercentage=50 -XX:MaxRAMPercentage=80 -Dalfresco.host=localhost -Dalfresco.port=8080 -Dalfresco.context=alfresco -Dalfresco.protocol=http"
    REPO_HOST = "alfresco"
    REPO_PORT = "8080"
  }
}

service "content-app" {
  image      = "docker.io/alfresco/alfresco-content-app:4.4.1"
  depends_on = [service.alfresco]
  env = {
    APP_BASE_SHARE_URL = "http://localhost:8080/aca/#/preview/s"
  }
}

service "control-center" {
  image      = "quay.io/alfresco/alfresco-control-center:8.4.1"
  depends_on = [service.alfresco]
  env = {
    APP_CONFIG_AUTH_TYPE = "BASIC"
    APP_CONFIG_PROVIDER  = "ECM"
    BASE_PATH            = "./"
  }
}

service "proxy" {
  # envctl: ports: host side of 8080:8080 dropped; envctl publishes container port 8080 on an ephemeral host port (envctl env shows them)
  image      = "docker.io/alfresco/alfresco-acs-nginx:3.4.2"
  depends_on = [service.share, service.content-app, service.control-center, service.alfresco]
  env = {
    DISABLE_ADW         = "true"
    DISABLE_PROMETHEUS  = "true"
    DISABLE_SYNCSERVICE = "true"
    ENABLE_CONTENT_APP  = "true"
  }
  ports = {
    http = 8080
  }
}

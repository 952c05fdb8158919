# Imported from docker-compose.yml by envctl import compose.
# envctl: version is obsolete in Compose and ignored

environment {
  name = "confluent-cp-all-in-one-community"
}

service "zookeeper" {
  # envctl: ports: host side of 2181:2181 dropped; envctl publishes container port 2181 on an ephemeral host port (envctl env shows them)
  image    = "confluentinc/cp-zookeeper:7.3.14"
  hostname = "zookeeper"
  env = {
    ZOOKEEPER_CLIENT_PORT = "2181"
    ZOOKEEPER_TICK_TIME   = "2000"
  }
  ports = {
    p2181 = 2181
  }
}

service "broker" {
  # envctl: ports: host side of 29092:29092 dropped; envctl publishes container port 29092 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 9092:9092 dropped; envctl publishes container port 9092 on an ephemeral host port (envctl env shows them)
  # envctl: ports: host side of 9101:9101 dropped; envctl publishes container port 9101 on an ephemeral host port (envctl env shows them)
  image      = "confluentinc/cp-kafka:7.3.14"
  hostname   = "broker"
  depends_on = [service.zookeeper]
  env = {
    KAFKA_ADVERTISED_LISTENERS                     = "PLAINTEXT://broker:29092,PLAINTEXT_HOST://localhost:9092"
    KAFKA_BROKER_ID                                = "1"
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS         = "0"
    KAFKA_JMX_HOSTNAME                             = "localhost"
    KAFKA_JMX_PORT                                 = "9101"
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP           = "PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT"
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR         = "1"
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR            = "1"
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR = "1"
    KAFKA_ZOOKEEPER_CONNECT                        = "zookeeper:2181"
  }
  ports = {
    p29092 = 29092
    p9092  = 9092
    p9101  = 9101
  }
}

service "schema-registry" {
  # envctl: ports: host side of 8081:8081 dropped; envctl publishes container port 8081 on an ephemeral host port (envctl env shows them)
  image      = "confluentinc/cp-schema-registry:7.3.14"
  hostname   = "schema-registry"
  depends_on = [service.broker]
  env = {
    SCHEMA_REGISTRY_HOST_NAME                    = "schema-registry"
    SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS = "broker:29092"
    SCHEMA_REGISTRY_LISTENERS                    = "http://0.0.0.0:8081"
  }
  ports = {
    http = 8081
  }
}

service "connect" {
  # envctl: ports: host side of 8083:8083 dropped; envctl publishes container port 8083 on an ephemeral host port (envctl env shows them)
  image      = "cnfldemos/kafka-connect-datagen:0.6.0-7.3.0"
  hostname   = "connect"
  depends_on = [service.broker, service.schema-registry]
  env = {
    CONNECT_BOOTSTRAP_SERVERS                   = "broker:29092"
    CONNECT_CONFIG_STORAGE_REPLICATION_FACTOR   = "1"
    CONNECT_CONFIG_STORAGE_TOPIC                = "docker-connect-configs"
    CONNECT_GROUP_ID                            = "compose-connect-group"
    CONNECT_KEY_CONVERTER                       = "org.apache.kafka.connect.storage.StringConverter"
    CONNECT_LOG4J_LOGGERS                       = "org.apache.zookeeper=ERROR,org.I0Itec.zkclient=ERROR,org.reflections=ERROR"
    CONNECT_OFFSET_FLUSH_INTERVAL_MS            = "10000"
    CONNECT_OFFSET_STORAGE_REPLICATION_FACTOR   = "1"
    CONNECT_OFFSET_STORAGE_TOPIC                = "docker-connect-offsets"
    CONNECT_PLUGIN_PATH                         = "/usr/share/java,/usr/share/confluent-hub-components"
    CONNECT_REST_ADVERTISED_HOST_NAME           = "connect"
    CONNECT_STATUS_STORAGE_REPLICATION_FACTOR   = "1"
    CONNECT_STATUS_STORAGE_TOPIC                = "docker-connect-status"
    CONNECT_VALUE_CONVERTER                     = "io.confluent.connect.avro.AvroConverter"
    CONNECT_VALUE_CONVERTER_SCHEMA_REGISTRY_URL = "http://schema-registry:8081"
  }
  ports = {
    p8083 = 8083
  }
}

service "ksqldb-server" {
  # envctl: ports: host side of 8088:8088 dropped; envctl publishes container port 8088 on an ephemeral host port (envctl env shows them)
  image      = "confluentinc/cp-ksqldb-server:7.3.14"
  hostname   = "ksqldb-server"
  depends_on = [service.broker, service.connect]
  env = {
    KSQL_BOOTSTRAP_SERVERS                                = "broker:29092"
    KSQL_CACHE_MAX_BYTES_BUFFERING                        = "0"
    KSQL_CONFIG_DIR                                       = "/etc/ksql"
    KSQL_HOST_NAME                                        = "ksqldb-server"
    KSQL_KSQL_CONNECT_URL                                 = "http://connect:8083"
    KSQL_KSQL_LOGGING_PROCESSING_STREAM_AUTO_CREATE       = "true"
    KSQL_KSQL_LOGGING_PROCESSING_TOPIC_AUTO_CREATE        = "true"
    KSQL_KSQL_LOGGING_PROCESSING_TOPIC_REPLICATION_FACTOR = "1"
    KSQL_KSQL_SCHEMA_REGISTRY_URL                         = "http://schema-registry:8081"
    KSQL_LISTENERS                                        = "http://0.0.0.0:8088"
  }
  ports = {
    p8088 = 8088
  }
}

service "ksqldb-cli" {
  # envctl: tty is not supported; dropped (services run without a terminal; envctl exec ENV SERVICE -- CMD gives one)
  image      = "confluentinc/cp-ksqldb-cli:7.3.14"
  entrypoint = ["/bin/sh"]
  depends_on = [service.broker, service.connect, service.ksqldb-server]
}

service "ksql-datagen" {
  image      = "confluentinc/ksqldb-examples:7.3.14"
  hostname   = "ksql-datagen"
  command    = ["bash", "-c", "echo Waiting for Kafka to be ready... && cub kafka-ready -b broker:29092 1 40 && echo Waiting for Confluent Schema Registry to be ready... && cub sr-ready schema-registry 8081 40 && echo Waiting a few seconds for topic creation to finish... && sleep 11 && tail -f /dev/null"]
  depends_on = [service.ksqldb-server, service.broker, service.schema-registry, service.connect]
  env = {
    KSQL_CONFIG_DIR              = "/etc/ksql"
    STREAMS_BOOTSTRAP_SERVERS    = "broker:29092"
    STREAMS_SCHEMA_REGISTRY_HOST = "schema-registry"
    STREAMS_SCHEMA_REGISTRY_PORT = "8081"
  }
}

service "rest-proxy" {
  # envctl: ports: host side of 8082:8082 dropped; envctl publishes container port 8082 on an ephemeral host port (envctl env shows them)
  image      = "confluentinc/cp-kafka-rest:7.3.14"
  hostname   = "rest-proxy"
  depends_on = [service.broker, service.schema-registry]
  env = {
    KAFKA_REST_BOOTSTRAP_SERVERS   = "broker:29092"
    KAFKA_REST_HOST_NAME           = "rest-proxy"
    KAFKA_REST_LISTENERS           = "http://0.0.0.0:8082"
    KAFKA_REST_SCHEMA_REGISTRY_URL = "http://schema-registry:8081"
  }
  ports = {
    p8082 = 8082
  }
}

// Package realstack holds a Postgres + Redis + RabbitMQ stack of real servers: compose.yaml
// with the healthchecks Compose users write, imported by `envctl import compose` into
// envctl's protocol probes, and urls/envctl.hcl, where one DATABASE_URL local built from the
// database's address serves two services' env and a job's command. Its test brings both up on
// the Docker Engine; `make bench` times the import against the same stack with TCP checks.
package realstack

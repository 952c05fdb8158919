// Package dotenv parses env files (KEY=VALUE lines, the syntax of Docker Compose's env_file and
// .env) into ordered pairs, naming the line of every error. It reads nothing itself and does no
// variable interpolation: an env file's values are taken literally, as `docker run --env-file`
// takes them, so a "$" in a password stays a "$".
package dotenv

// Package compose converts a docker-compose file into envctl's environment file (HCL text),
// for `envctl import compose FILE`.
//
// Convert is pure: it reads the YAML it is given and returns HCL bytes plus Notes; it does no
// I/O. The YAML is read as yaml.Node trees, so that every error and note can name its line,
// services keep their file order, and anchors, aliases and merge keys (`<<: *defaults`, common
// with x- extension fields) are resolved the way Compose resolves them.
//
// # Mapping
//
//   - The project name (`name:`, else the compose file's directory) becomes environment.name,
//     made DNS-safe.
//   - Service names that are not DNS-safe are lowercased, with "_" and "." turned into "-"
//     (a warning: other services that reach it by its old host name must change).
//   - image, build (string or {context, dockerfile, args}) carry over; build contexts are
//     rewritten relative to Options.OutDir. Other build keys (target, cache_from, ...) are
//     warned about.
//   - command and entrypoint: the list form as it is; the string form is split into words the
//     way Compose does (shell quoting rules, no shell, no expansion).
//   - environment (map or list) becomes env, keys sorted. A key without a value, which Compose
//     takes from the shell, becomes a variable of the same name (a warning says so).
//   - ports and expose become named container ports: "http" for the first of 80, 3000, 5000,
//     8000, 8008, 8080, 8081, 8888; "https" for the first of 443, 8443; else "p<N>", or the
//     long syntax's name when it is a valid port name. Host ports, host addresses and ranges
//     are written out as single container ports; the host side is dropped (a warning) since
//     envctl publishes on ephemeral ports. UDP ports are dropped (envctl ports are TCP).
//   - depends_on (list or map) becomes depends_on. Conditions: service_started is a plain
//     edge; service_healthy is an edge, and the dependency's healthcheck becomes its ready
//     block (a warning when it has none); service_completed_successfully makes the dependency
//     run = "once". links also become edges. Note that every envctl edge waits for the
//     dependency to be ready, which is stricter than service_started.
//   - healthcheck becomes ready: test ["CMD", ...] is exec with that argv, ["CMD-SHELL", s]
//     and the string form are exec ["/bin/sh", "-c", s], ["NONE"] or disable: true give no
//     ready block. interval carries over (without it envctl's adaptive interval is used);
//     timeout = start_period + interval × retries, with Compose's defaults for what is unset
//     (interval 30s, retries 3, start_period 0): the time after which Compose would call the
//     service unhealthy. The per-check timeout and start_interval have no counterpart.
//     A service without a healthcheck is ready, in envctl, when its ports accept TCP.
//   - deploy.resources.limits (cpus, memory) and the older cpus and mem_limit become
//     resources; memory uses Docker's binary units (512m is 512MiB).
//   - labels (map or list) carry over, keys sorted.
//   - Variables: ${VAR}, $VAR, ${VAR:-default}, ${VAR-default}, ${VAR:?message} and
//     ${VAR:+alt} become variable blocks (default where Compose gives one) and var.VAR
//     references; $$ is a literal $. Where envctl needs a fixed value (ports, resources,
//     durations, build paths, names) the default is substituted, and a variable without one
//     is an error. Variables whose names look like secrets (PASSWORD, SECRET, TOKEN, API_KEY)
//     are marked sensitive.
//   - x- extension fields are ignored with a note; version is obsolete and ignored with a
//     note.
//
// Everything else (volumes, secrets, configs, networks, profiles, restart, ulimits,
// container_name, env_file, ...) cannot be carried over: it is listed as a "# envctl: ..."
// comment in the service (or at the top, for top-level keys) and returned as a Note with Warn
// set, which the CLI prints on stderr. Nothing is dropped silently.
//
// The output is deterministic: variables sorted by name, services in file order, map keys
// sorted, and formatted by hclwrite.
package compose

// Package compose converts docker-compose files into envctl's environment file (HCL text),
// for `envctl import compose FILE...`.
//
// Convert and ConvertFiles are pure apart from Options.ReadFile, through which they read the
// .env beside the first file and the files extends names: they return HCL bytes plus Notes.
// The YAML is read as yaml.Node trees, so that every error and note can name its file and
// line, services keep their file order, and anchors, aliases and merge keys (`<<: *defaults`,
// common with x- extension fields) are resolved the way Compose resolves them.
//
// # The project
//
//   - Several files (-f base.yml -f overlay.yml) merge as Compose merges them (merge.go):
//     mappings deeply; environment, labels, build args and extra_hosts by key in either form;
//     depends_on by service; volumes, secrets, configs and tmpfs by target path; ports,
//     expose and other lists appended; command, entrypoint, image and healthcheck.test
//     replaced; !reset and !override honoured. Relative paths of every -f file are relative to
//     the first file's directory; those of a file named by extends to that file's.
//   - extends (string or {service, file}) merges the named service under the extending one,
//     recursively, with the same rules. A top-level include adds the included files'
//     services, volumes, networks, secrets and configs (their paths relative to their own
//     directory); a service both define is an error, as in Compose.
//   - The .env beside the first file gives variables their values, as Compose reads it for
//     interpolation (and COMPOSE_PROJECT_NAME). A variable whose name looks like a secret is
//     not given its .env value in the generated file (people commit it): it stays a required,
//     sensitive variable, and Result.FromDotenv lists it.
//   - The project name (`name:`, else COMPOSE_PROJECT_NAME, else the directory) becomes
//     environment.name, made DNS-safe, and cut (with a warning) when a container name
//     ENVIRONMENT-SERVICE would pass 63 characters; a service name that alone cannot fit is an
//     error.
//
// # Services
//
//   - Names that are not DNS-safe are lowercased, with "_" and "." turned into "-" (a warning).
//     container_name becomes a network alias (aliases) when it can be one, else a warning.
//   - image, build (context, dockerfile, args, target, cache_from), command and entrypoint
//     (the string form split like a shell would, without one), environment (a value-less key
//     becomes a variable), env_file, labels, user, working_dir, hostname, profiles, init,
//     read_only, shm_size, cap_add, cap_drop, extra_hosts, ulimits, stop_signal,
//     stop_grace_period and network aliases carry over one to one.
//   - volumes: a file or directory of the project is a bind mount (read-only when :ro;
//     Compose binds are writable, so others say read_only = false); a named volume is a volume
//     mount of the environment; an anonymous volume becomes a named one (SERVICE-PATH), since
//     Compose keeps it across recreation too; a volume whose driver_opts make it a tmpfs, and
//     tmpfs, are tmpfs mounts. Host paths outside the project and the home directory are
//     warned and dropped. secrets are secret blocks (file, or the variable of environment:);
//     configs from a file are read-only bind mounts.
//   - ports and expose become named container ports ("http" for the first of 80, 3000, 5000,
//     8000, 8008, 8080, 8081, 8888; "https" for 443, 8443; else "p<N>" or the long syntax's
//     name). The host side is dropped without being interpolated (a note), since envctl
//     publishes on ephemeral ports; UDP ports are dropped (a warning).
//   - depends_on and links become depends_on. service_healthy takes the dependency's
//     healthcheck as its ready block; service_completed_successfully makes it run = "once",
//     as does a profile-only service that restarts on failure (or never) and that nothing
//     waits on: the one-shot task Compose users start with a profile.
//   - healthcheck becomes ready: CMD is exec, CMD-SHELL and the string form run /bin/sh -c;
//     timeout = start_period + interval × retries, with Compose's defaults: when Compose
//     would call the service unhealthy. The check's own timeout becomes attempt_timeout (and
//     the total is at least that).
//   - deploy.resources.limits, cpus and mem_limit become resources.
//
// # Variables
//
// ${VAR}, $VAR, ${VAR:-default}, ${VAR-default}, ${VAR:?message} and ${VAR:+alt} become
// variable blocks and var.VAR references; $$ is a literal $. How a use is written is settled
// once all uses are known (interp.go): a variable every use gives the same default gets it;
// when uses differ (another default, or a value-less environment key), each use with a
// default says it itself, so that no use takes an unrelated line's default. Where envctl needs
// a fixed value (ports, paths, depends_on, sizes, durations), the variable is fixed to its
// .env value or to the default there, and then written as that value everywhere, so that the
// file stays consistent; with neither, the import fails naming the line.
//
// Every other key is a warning with the reason (the why table in convert.go), listed as a
// "# envctl: ..." comment in the service and returned as a Note with Warn set; extension
// fields and the obsolete version are notes. Nothing is dropped silently.
//
// The output is deterministic: variables sorted by name, services in file order, map keys
// sorted, and formatted by hclwrite.
package compose

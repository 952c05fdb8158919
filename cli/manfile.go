package cli

// manFileSection is the man page's ENVIRONMENT FILE section (roff): every attribute of a
// service block. TestManListsAttributes keeps it in step with the loader.
const manFileSection = `.SH ENVIRONMENT FILE
An environment file (envctl.hcl) declares an optional \fBenvironment { name, ttl }\fP block,
\fBvariable "N"\fP and \fBlocals\fP blocks, and one \fBservice "N"\fP block per service. A
service block takes:
.TP
\fBimage\fP, \fBbuild { context, dockerfile, args, target, cache_from }\fP
the image, or how to build it (target: a stage of a multi-stage Dockerfile).
.TP
\fBcommand\fP, \fBentrypoint\fP, \fBenv\fP, \fBenv_file\fP
argv lists (no shell), a map of strings, and dotenv files merged under env.
.TP
\fBports\fP, \fBpublish_ip\fP, \fBaliases\fP, \fBhostname\fP, \fBextra_hosts\fP
named container ports, where they are published, more DNS names, the host name, /etc/hosts entries.
.TP
\fBdepends_on\fP, \fBrun\fP, \fBready { http | tcp | exec | log | postgres | mysql | redis | amqp | memcached | grpc | kafka | mongodb, timeout, interval, attempt_timeout }\fP, \fBprofiles\fP
edges, "service" or "once", readiness, and the profiles that bring the service up (--profile, ENVCTL_PROFILES).
.TP
\fBresources { cpus, memory }\fP, \fBshm_size\fP, \fBulimits\fP
limits (requests on Mesos), /dev/shm's size, and { nofile = "soft:hard" }.
.TP
\fBuser\fP, \fBworking_dir\fP, \fBinit\fP, \fBread_only\fP, \fBcap_add\fP, \fBcap_drop\fP
the process's user, directory, an init as PID 1, a read-only root filesystem, capabilities.
.TP
\fBstop_signal\fP, \fBstop_grace_period\fP
the stop signal and how long before SIGKILL.
.TP
\fBmount { type, source, target, read_only, size }\fP
bind (a repository file or directory, copied in), volume (a named volume of the environment, removed by down unless --keep-volumes) or tmpfs.
.TP
\fBsecret "NAME" { value | file, target, mode }\fP
a file (default /run/secrets/NAME) that never shows in labels, env or inspect output.
.TP
\fBlabels\fP
labels of the container or task.
`

// Package realservers tests the protocol probes (provisioner/protocol) against the real
// servers people run — PostgreSQL, MariaDB, Redis, RabbitMQ, memcached and a gRPC server —
// built from Debian's packages without a registry (internal/realimage: the Dockerfiles of
// ../shared/images and its own), on the Docker Engine. For each: the probe is not
// ready while the server initialises or loads, and it turns ready within 100 ms of the moment
// a real client's first operation succeeds (a client loop runs beside the probe). Its
// benchmark measures the CPU of one probe attempt beside an exec check's.
package realservers

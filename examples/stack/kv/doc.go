// Command kv is the one program of examples/stack, a tiny datastore and its front, written
// to prove from inside the containers what the example's environment file sets up.
//
// kv store: serves a key-value store on $LISTEN (default :7000). At its first start (an empty
// data directory, $DATA_DIR, default /data, a named volume) it loads every *.kv file of
// $INIT_DIR (default /docker-entrypoint-initdb.d, a file mounted from the repository), one
// key=value a line, like a database's init scripts; later starts find the data and count
// their boots. It writes a cache file into $CACHE_DIR (a tmpfs), and answers only requests
// carrying the password of the secret file $KV_PASSWORD_FILE. GET /report says all that as
// JSON; GET /put?k=K&v=V and GET /get?k=K store and read; GET /healthz is "ok".
//
// kv front: serves $LISTEN (default :8080); GET / asks the store ($STORE_URL) for its report
// and answers one line, the chain's answer; GET /put?k=K&v=V passes a write on.
//
// Both stop at once on SIGTERM. $STAGE is set by the Dockerfile's stage (the build target),
// $KV_REGION by the store's env file.
package main

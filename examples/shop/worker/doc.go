// Command worker processes the shop's orders: it pops them from the store's queue and
// marks each one processed in the store.
//
// Once its first authenticated request to store succeeds it prints
// "worker: consuming orders from queue Q at URL" on stdout, the line envctl.hcl's
// `ready { log = ... }` waits for.
//
//	GET /healthz   200 while the last request to store succeeded, else 503
//	GET /stats     {"processed": N, "last_order": "ID", "queue": "Q"}
//
// Settings (flag, else environment variable):
//
//	--listen ADDR   LISTEN        where to serve (default ":8081")
//	--store ADDR    STORE_ADDR    the store, host:port or URL (required)
//	--token TOKEN   STORE_TOKEN   the store's bearer token (required, never printed)
//	--queue NAME    QUEUE         the store queue to consume (default "orders")
package main

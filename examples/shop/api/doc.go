// Command api is the shop's HTTP API in front of store.
//
//	GET  /healthz       200 once store answers an authenticated request, else 503
//	GET  /products      the catalogue with the store's schema; 503 until migrate has run
//	POST /orders        {"product":"p1"}: records the order and queues it for worker (202)
//	GET  /orders/{id}   the order, whose status worker turns from "queued" to "processed"
//
// Settings (flag, else environment variable):
//
//	--listen ADDR   LISTEN            where to serve (default ":8080")
//	--store ADDR    STORE_ADDR        the store, host:port or URL (required)
//	--token TOKEN   STORE_TOKEN       the store's bearer token (required, never printed)
//	--schema N      REQUIRED_SCHEMA   the schema version it needs (default 1)
//	--queue NAME    QUEUE             the store queue orders go to (default "orders")
package main

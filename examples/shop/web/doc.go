// Command web is the shop's front. One GET / walks the whole system and reports it:
//
//	web -> api -> store (schema 1, migrated by migrate, 3 products) ; order 1a2b3c processed by worker ; worker ok (processed 1)
//
// It reads the catalogue through api (which needs migrate to have run on store), places
// an order through api, waits until worker has marked it processed in store, and reads
// worker's stats. So one answer of 200 proves that every service is up and that each
// reached the next through the addresses envctl injected. GET /?format=json answers
// the same as JSON; a broken link answers 502 naming it.
//
//	GET /healthz   200 "ok" (web itself is up)
//
// Settings (flag, else environment variable):
//
//	--listen ADDR   LISTEN        where to serve (default ":8000")
//	--api ADDR      API_ADDR      the api, host:port or URL (required)
//	--worker ADDR   WORKER_ADDR   the worker's HTTP port, host:port or URL (required)
package main

// Command store serves the shop's datastore (package storeserver): an in-memory key/value store, a schema
// version that migrate sets, and named FIFO queues, over HTTP (protocol in
// examples/shop/internal/storeclient).
//
// Settings (flag, else environment variable):
//
//	--listen ADDR   LISTEN        where to serve (default ":7000")
//	--token TOKEN   STORE_TOKEN   the bearer token every request but /healthz must carry;
//	                              required, and never printed
//
// It keeps everything in memory: a restart is an empty store, as a fresh test
// environment wants.
package main

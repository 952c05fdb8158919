// Package storeclient speaks the shop store's HTTP protocol for migrate, api and
// worker: keys and values, the schema version, and queues, each request carrying the
// store's bearer token.
//
// The protocol (all but /healthz need "Authorization: Bearer TOKEN"):
//
//	GET  /healthz                     200 "ok"
//	GET  /schema                      {"version":N,"migrated_by":"..."}
//	PUT  /schema                      same body; 409 if older than the current version
//	PUT  /kv/KEY                      store the body under KEY
//	GET  /kv/KEY                      the value, or 404
//	GET  /kv?prefix=P                 {"KEY":"VALUE",...} of every key starting with P
//	POST /queue/NAME                  push the body
//	POST /queue/NAME/pop?wait=D       pop the oldest item; wait up to D; 204 if none
package storeclient

// Package storeserver is the shop store's HTTP handler: an in-memory key/value store,
// a schema version, and FIFO queues with waiting pops. Command store serves it; the
// tests of migrate, api, worker and web serve it with httptest, so they run against
// the real protocol (documented in package storeclient).
package storeserver

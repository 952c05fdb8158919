// Command migrate is the shop's one-shot migration (run = "once" in envctl.hcl): it sets
// the store's schema version and seeds the product catalogue, then exits 0.
//
// It waits for nothing itself: envctl starts it only once store is ready. It exits 1
// with a message when the store is unreachable, refuses the token, or already has a
// newer schema; running it again on an up-to-date store is harmless.
//
// Settings (flag, else environment variable):
//
//	--store ADDR         STORE_ADDR       the store, host:port or URL (required)
//	--token TOKEN        STORE_TOKEN      the store's bearer token (required, never printed)
//	--schema N           SCHEMA_VERSION   the version to migrate to (default 1)
//	--products JSON      SEED_PRODUCTS    the catalogue, a JSON list of
//	                                      {"id","name","price_cents"} (default: three teas)
package main

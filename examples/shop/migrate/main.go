package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/envctl/envctl/examples/shop/internal/service"
	"github.com/envctl/envctl/examples/shop/internal/storeclient"
)

func main() {
	ctx, stop := service.SignalContext()
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Product is one catalogue entry, stored as JSON under "product/<id>".
type Product struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	PriceCents int    `json:"price_cents"`
}

// defaultProducts seed the catalogue when SEED_PRODUCTS is not given.
const defaultProducts = `[
  {"id": "p1", "name": "green tea", "price_cents": 350},
  {"id": "p2", "name": "black tea", "price_cents": 300},
  {"id": "p3", "name": "oolong", "price_cents": 450}
]`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("store", os.Getenv("STORE_ADDR"), "store address, host:port (default $STORE_ADDR)")
	token := fs.String("token", os.Getenv("STORE_TOKEN"), "store bearer token (default $STORE_TOKEN)")
	schemaStr := fs.String("schema", service.Env("SCHEMA_VERSION", "1"), "schema version to migrate to")
	products := fs.String("products", service.Env("SEED_PRODUCTS", defaultProducts), "catalogue as a JSON list")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	schema, err := strconv.Atoi(*schemaStr)
	if err != nil || schema < 1 {
		fmt.Fprintf(stderr, "migrate: schema version %q: want a whole number >= 1\n", *schemaStr)
		return 2
	}
	if *addr == "" || *token == "" {
		fmt.Fprintln(stderr, "migrate: the store's address and token are required (--store/STORE_ADDR, --token/STORE_TOKEN)")
		return 2
	}
	var catalogue []Product
	if err := json.Unmarshal([]byte(*products), &catalogue); err != nil {
		fmt.Fprintf(stderr, "migrate: products: %v\n", err)
		return 2
	}
	for i, p := range catalogue {
		if p.ID == "" {
			fmt.Fprintf(stderr, "migrate: product #%d has no id\n", i+1)
			return 2
		}
	}

	store := storeclient.New(service.URL(*addr), *token)
	if err := migrate(ctx, store, schema, catalogue); err != nil {
		fmt.Fprintf(stderr, "migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "migrate: store at %s migrated to schema %d, %d products seeded\n", store.Base(), schema, len(catalogue))
	return 0
}

// migrate seeds the catalogue, then sets the schema: the version is written last so
// that api never sees a migrated schema with a half-written catalogue.
func migrate(ctx context.Context, store *storeclient.Client, schema int, catalogue []Product) error {
	cur, err := store.Schema(ctx)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if cur.Version > schema {
		return fmt.Errorf("the store's schema is already at version %d (by %s), newer than %d", cur.Version, cur.MigratedBy, schema)
	}
	for _, p := range catalogue {
		b, err := json.Marshal(p)
		if err != nil {
			return err
		}
		if err := store.Put(ctx, "product/"+p.ID, b); err != nil {
			return fmt.Errorf("seeding product %s: %w", p.ID, err)
		}
	}
	if err := store.SetSchema(ctx, storeclient.Schema{Version: schema, MigratedBy: "migrate"}); err != nil {
		return fmt.Errorf("setting the schema version: %w", err)
	}
	return nil
}

// The front: one request to web walks the whole chain.
package front_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/envctl/envctl/envtest"
	"github.com/envctl/envctl/examples/shop/internal/shoptest"
)

var shop *envtest.Env

func TestMain(m *testing.M) {
	if why := shoptest.NoEngine(); why != "" {
		fmt.Println("skipping the shop's integration tests:", why)
		os.Exit(0)
	}
	if err := shoptest.Build(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shop = envtest.New(shoptest.File(), nil)
	os.Exit(shop.Run(m))
}

func TestChain(t *testing.T) {
	resp, err := http.Get(shop.URL("web", "http", "/"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "web -> api -> store (schema 1") || !strings.Contains(string(body), "processed by worker") {
		t.Fatalf("GET / on web (%s): %s\n%s", shop.Endpoint("web", "http"), resp.Status, body)
	}
	t.Logf("environment %s: %s", shop.Name(), body)
}

func TestEndpointsAreTyped(t *testing.T) {
	if _, err := shop.Lookup("web", "grpc"); err == nil || !strings.Contains(err.Error(), `"grpc"`) {
		t.Errorf("Lookup of a port web does not publish: %v", err)
	}
	if _, err := shop.Lookup("cart", "http"); err == nil && !shop.Attached() {
		t.Errorf("Lookup of a service the shop does not have found one")
	}
}

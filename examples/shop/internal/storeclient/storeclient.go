package storeclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrNotFound is returned by Get for a key the store does not hold.
var ErrNotFound = errors.New("not found")

// StatusError is an answer from the store other than the one expected.
type StatusError struct {
	Op     string // e.g. "PUT /schema"
	Status int
	Body   string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("store %s: status %d: %s", e.Op, e.Status, e.Body)
}

// Schema is the store's schema version and who set it.
type Schema struct {
	Version    int    `json:"version"`
	MigratedBy string `json:"migrated_by"`
}

// Client talks to one store. It is safe for concurrent use.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// requestTimeout bounds every request but a waiting Pop: a store that accepts and never
// answers must turn into an error, not a hung service.
const requestTimeout = 5 * time.Second

// New returns a client for the store at base ("http://host:port") that sends token.
func New(base, token string) *Client {
	return &Client{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{}}
}

// Base returns the store's base URL.
func (c *Client) Base() string { return c.base }

func (c *Client) do(ctx context.Context, method, path string, body []byte, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	// 4 MiB is far beyond any shop value; the cap keeps a wrong address harmless.
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

func (c *Client) expect(ctx context.Context, method, path string, body []byte, want int) ([]byte, error) {
	status, b, err := c.do(ctx, method, path, body, requestTimeout)
	if err != nil {
		return nil, err
	}
	if status != want {
		return nil, &StatusError{Op: method + " " + path, Status: status, Body: strings.TrimSpace(string(b))}
	}
	return b, nil
}

// Healthy returns nil if the store answers /healthz with 200.
func (c *Client) Healthy(ctx context.Context) error {
	_, err := c.expect(ctx, http.MethodGet, "/healthz", nil, http.StatusOK)
	return err
}

// Schema returns the store's schema version (0 before any migration).
func (c *Client) Schema(ctx context.Context) (Schema, error) {
	var s Schema
	b, err := c.expect(ctx, http.MethodGet, "/schema", nil, http.StatusOK)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("store GET /schema: %w", err)
	}
	return s, nil
}

// SetSchema sets the schema version; the store refuses (409) to go backwards.
func (c *Client) SetSchema(ctx context.Context, s Schema) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	_, err = c.expect(ctx, http.MethodPut, "/schema", b, http.StatusNoContent)
	return err
}

// Put stores value under key.
func (c *Client) Put(ctx context.Context, key string, value []byte) error {
	_, err := c.expect(ctx, http.MethodPut, "/kv/"+url.PathEscape(key), value, http.StatusNoContent)
	return err
}

// Get returns the value under key, or ErrNotFound.
func (c *Client) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := c.expect(ctx, http.MethodGet, "/kv/"+url.PathEscape(key), nil, http.StatusOK)
	var se *StatusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return nil, fmt.Errorf("key %q: %w", key, ErrNotFound)
	}
	return b, err
}

// List returns every key starting with prefix and its value.
func (c *Client) List(ctx context.Context, prefix string) (map[string]string, error) {
	b, err := c.expect(ctx, http.MethodGet, "/kv?prefix="+url.QueryEscape(prefix), nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("store GET /kv: %w", err)
	}
	return m, nil
}

// Push appends item to the queue.
func (c *Client) Push(ctx context.Context, queue string, item []byte) error {
	_, err := c.expect(ctx, http.MethodPost, "/queue/"+url.PathEscape(queue), item, http.StatusNoContent)
	return err
}

// Pop removes and returns the oldest item of the queue, waiting up to wait for one.
// ok is false when the queue stayed empty.
func (c *Client) Pop(ctx context.Context, queue string, wait time.Duration) (item []byte, ok bool, err error) {
	path := "/queue/" + url.PathEscape(queue) + "/pop?wait=" + wait.String()
	status, b, err := c.do(ctx, http.MethodPost, path, nil, wait+requestTimeout)
	if err != nil {
		return nil, false, err
	}
	switch status {
	case http.StatusOK:
		return b, true, nil
	case http.StatusNoContent:
		return nil, false, nil
	default:
		return nil, false, &StatusError{Op: "POST " + path, Status: status, Body: strings.TrimSpace(string(b))}
	}
}

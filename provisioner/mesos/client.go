package mesos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mesos/mesos-go/api/v1/lib/master"

	"github.com/envctl/envctl/provisioner"
)

const (
	mediaProtobuf = "application/x-protobuf"
	// maxRedirects bounds how many 307s one request follows: a master points at the leader,
	// and a leader never redirects, so more than a few means a misconfigured cluster.
	maxRedirects = 5
	// callTimeout bounds one non-streaming call; mesos.md §1.10 suggests ~75 s for a real
	// cluster under load, but every call envctl makes is small, and a master that takes more
	// than this is as good as gone for a command-line tool.
	callTimeout = 15 * time.Second
	// dialTimeout keeps "the master does not answer" within the ~3 s the CLI promises.
	dialTimeout = 3 * time.Second
)

// client talks HTTP to the leading master: the scheduler endpoint (calls and the subscription
// stream) and the operator endpoint.
type client struct {
	hc        *http.Client
	principal string
	secret    string

	mu     sync.Mutex // guards leader: any request that meets a 307 moves it
	leader *url.URL   // scheme://host:port of the master believed to lead
}

func newClient(master, principal, secret string) (*client, error) {
	u, err := url.Parse(strings.TrimRight(master, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("mesos master %q: want http://HOST:PORT", master)
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ResponseHeaderTimeout: callTimeout, // the master sends SUBSCRIBE headers before any event
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
	}
	return &client{
		hc: &http.Client{
			Transport: tr,
			// Redirects are followed by hand: the master's Location is protocol-relative and
			// names the leader, which every later request must go to as well.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		principal: principal, secret: secret,
		leader: &url.URL{Scheme: u.Scheme, Host: u.Host},
	}, nil
}

func (c *client) base() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader.String()
}

// unreachable wraps a transport failure so that the CLI exits 3.
func (c *client) unreachable(err error) error {
	return fmt.Errorf("mesos master %s: %w: %v", c.base(), errUnreachable, err)
}

// post sends body to path on the leader and follows 307s to the new leader. The caller closes
// the response body. Only a transport failure is an error here; statuses are the caller's.
func (c *client) post(ctx context.Context, path string, body []byte, hdr http.Header, stream bool) (*http.Response, error) {
	for i := 0; ; i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base()+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", mediaProtobuf)
		req.Header.Set("Accept", mediaProtobuf)
		for k, vs := range hdr {
			req.Header[k] = vs
		}
		if c.principal != "" {
			req.SetBasicAuth(c.principal, c.secret)
		}
		// A subscription owns its connection: closing the body must end it at the master,
		// never hand the connection back to a pool.
		req.Close = stream
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, c.unreachable(err)
		}
		if resp.StatusCode != http.StatusTemporaryRedirect {
			return resp, nil
		}
		loc := resp.Header.Get("Location")
		drain(resp)
		if i >= maxRedirects {
			return nil, fmt.Errorf("mesos master %s: more than %d redirects", c.base(), maxRedirects)
		}
		if err := c.follow(loc); err != nil {
			return nil, err
		}
	}
}

// follow moves the leader to a 307's Location, "//host:port/api/v1/scheduler" (protocol
// relative, mesos.md §1.1).
func (c *client) follow(loc string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, err := c.leader.Parse(loc)
	if err != nil || u.Host == "" {
		return fmt.Errorf("mesos master %s: redirect to %q: not a master address", c.leader, loc)
	}
	c.leader = &url.URL{Scheme: u.Scheme, Host: u.Host}
	return nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// statusError reads a non-success answer into an error.
func statusError(what string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	msg := strings.TrimSpace(string(b))
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &httpError{What: what, Code: resp.StatusCode, Msg: msg}
}

// operator makes one operator API call (POST /api/v1).
func (c *client) operator(ctx context.Context, call *master.Call) (*master.Response, error) {
	body, err := call.Marshal()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	resp, err := c.post(ctx, "/api/v1", body, nil, false)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError("operator "+call.Type.String(), resp)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, c.unreachable(err)
	}
	out := &master.Response{}
	if len(b) == 0 { // TEARDOWN answers 200 with no body
		return out, nil
	}
	if err := out.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("operator %s: bad answer: %w", call.Type, err)
	}
	return out, nil
}

// httpError is a master's answer with an unexpected status.
type httpError struct {
	What string
	Code int
	Msg  string
}

func (e *httpError) Error() string { return fmt.Sprintf("%s: HTTP %d: %s", e.What, e.Code, e.Msg) }

// Unwrap makes a 503 (no leader, or one still recovering) count as unreachable: nothing envctl
// can act on yet.
func (e *httpError) Unwrap() error {
	if e.Code == http.StatusServiceUnavailable {
		return errUnreachable
	}
	return nil
}

// isStatus tells whether err is an answer with HTTP status code.
func isStatus(err error, code int) bool {
	var he *httpError
	return errors.As(err, &he) && he.Code == code
}

// errUnreachable is provisioner.ErrUnreachable (exit code 3).
var errUnreachable = provisioner.ErrUnreachable

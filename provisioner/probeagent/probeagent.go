package probeagent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/protocol"
)

// Operations of a request.
const (
	OpTCP  = "tcp"
	OpHTTP = "http"
	// OpProtocol runs a protocol check (provisioner/protocol) at addr.
	OpProtocol = "protocol"
)

// maxTimeout bounds one probe the agent makes whatever the request says, so that a request
// without a usable timeout cannot pin a goroutine forever.
const maxTimeout = time.Minute

type request struct {
	ID        uint64 `json:"id"`
	Op        string `json:"op"`
	Addr      string `json:"addr,omitempty"`
	URL       string `json:"url,omitempty"`
	TimeoutMS int64  `json:"timeout_ms"`
	// Protocol is the check of OpProtocol. Its redis password crosses only the agent's
	// stdin, a stream of the engine's attach API: never a label, an argument or an env var.
	Protocol *protocol.Params `json:"protocol,omitempty"`
}

type response struct {
	ID     uint64 `json:"id"`
	Hello  string `json:"hello,omitempty"`
	Status int    `json:"status,omitempty"`
	Err    string `json:"err,omitempty"`
	// OK and Detail are a protocol check's outcome (Err: no connection was made).
	OK     bool   `json:"ok,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Serve is the agent: it answers the requests read from r on w, making each probe with pn,
// until r ends. It writes the hello line first.
func Serve(r io.Reader, w io.Writer, pn provisioner.ProbeNet) error {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	send := func(resp response) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(resp)
	}
	send(response{ID: 0, Hello: "envctl probe agent " + provisioner.Version})
	var wg sync.WaitGroup
	defer wg.Wait()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		var req request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			send(response{Err: "bad request: " + err.Error()})
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(handle(req, pn))
		}()
	}
	return sc.Err()
}

func handle(req request, pn provisioner.ProbeNet) response {
	timeout := time.Duration(req.TimeoutMS) * time.Millisecond
	if timeout <= 0 || timeout > maxTimeout {
		timeout = maxTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp := response{ID: req.ID}
	var err error
	switch req.Op {
	case OpTCP:
		err = pn.DialTCP(ctx, req.Addr)
	case OpHTTP:
		resp.Status, err = pn.GetHTTP(ctx, req.URL)
	case OpProtocol:
		if req.Protocol == nil {
			err = errors.New("a protocol request without its check")
			break
		}
		resp.OK, resp.Detail, err = pn.Protocol(ctx, req.Addr, *req.Protocol)
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	if err != nil {
		resp.Err = err.Error()
	}
	return resp
}

// ErrStopped is wrapped by the errors of a Client whose agent has stopped answering.
var ErrStopped = errors.New("the probe agent stopped")

// Client is a provisioner.ProbeNet that has an agent make the probes. It is safe for
// concurrent use.
type Client struct {
	w     io.Writer
	wmu   sync.Mutex
	mu    sync.Mutex
	next  uint64
	wait  map[uint64]chan response
	err   error // set once the agent's output ended
	hello chan string
}

// NewClient talks to an agent whose stdin is w and whose stdout is r. It reads r until it
// ends; Close the stream's owner to stop it.
func NewClient(w io.Writer, r io.Reader) *Client {
	c := &Client{w: w, wait: map[uint64]chan response{}, hello: make(chan string, 1)}
	go c.read(r)
	return c
}

func (c *Client) read(r io.Reader) {
	dec := json.NewDecoder(r)
	var err error
	for {
		var resp response
		if err = dec.Decode(&resp); err != nil {
			break
		}
		if resp.ID == 0 {
			if resp.Hello != "" {
				select {
				case c.hello <- resp.Hello:
				default:
				}
			}
			continue
		}
		c.mu.Lock()
		ch := c.wait[resp.ID]
		delete(c.wait, resp.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- resp
		}
	}
	if errors.Is(err, io.EOF) {
		err = ErrStopped
	} else {
		err = fmt.Errorf("%w: %v", ErrStopped, err)
	}
	c.mu.Lock()
	c.err = err
	for id, ch := range c.wait {
		delete(c.wait, id)
		close(ch)
	}
	c.mu.Unlock()
	close(c.hello)
}

// Hello waits for the agent's hello line: the agent runs and answers.
func (c *Client) Hello(ctx context.Context) (string, error) {
	select {
	case h, ok := <-c.hello:
		if !ok {
			return "", c.Err()
		}
		return h, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Err is why the agent stopped answering; nil while it answers.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *Client) do(ctx context.Context, req request) (response, error) {
	timeout := maxTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return response{}, context.DeadlineExceeded
	}
	req.TimeoutMS = max(1, timeout.Milliseconds())
	ch := make(chan response, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return response{}, c.err
	}
	c.next++
	req.ID = c.next
	c.wait[req.ID] = ch
	c.mu.Unlock()
	line, err := json.Marshal(req)
	if err != nil {
		return response{}, err
	}
	c.wmu.Lock()
	_, err = c.w.Write(append(line, '\n'))
	c.wmu.Unlock()
	if err != nil {
		c.forget(req.ID)
		return response{}, fmt.Errorf("%w: %v", ErrStopped, err)
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			return response{}, c.Err()
		}
		return resp, nil
	case <-ctx.Done():
		c.forget(req.ID)
		return response{}, errors.New("timed out")
	}
}

func (c *Client) forget(id uint64) {
	c.mu.Lock()
	delete(c.wait, id)
	c.mu.Unlock()
}

// DialTCP has the agent connect to addr.
func (c *Client) DialTCP(ctx context.Context, addr string) error {
	resp, err := c.do(ctx, request{Op: OpTCP, Addr: addr})
	if err != nil {
		return err
	}
	if resp.Err != "" {
		return errors.New(resp.Err)
	}
	return nil
}

// GetHTTP has the agent GET url and returns the first status.
func (c *Client) GetHTTP(ctx context.Context, url string) (int, error) {
	resp, err := c.do(ctx, request{Op: OpHTTP, URL: url})
	if err != nil {
		return 0, err
	}
	if resp.Err != "" {
		return 0, errors.New(resp.Err)
	}
	return resp.Status, nil
}

// Protocol has the agent connect to addr and run p's check.
func (c *Client) Protocol(ctx context.Context, addr string, p protocol.Params) (bool, string, error) {
	resp, err := c.do(ctx, request{Op: OpProtocol, Addr: addr, Protocol: &p})
	if err != nil {
		return false, "", err
	}
	if resp.Err != "" {
		return false, "", errors.New(resp.Err)
	}
	return resp.OK, resp.Detail, nil
}

var _ provisioner.ProbeNet = (*Client)(nil)

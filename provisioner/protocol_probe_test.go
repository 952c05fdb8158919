package provisioner

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// envBackend is a Backend whose instances run and whose env holds a redis password.
type envBackend struct {
	slowBackend
	env map[string]string
}

func (b *envBackend) Inspect(_ context.Context, inst Instance) (Instance, error) {
	inst.State = StateRunning
	return inst, nil
}

func (b *envBackend) EnvValue(_ context.Context, _ Instance, key string) (string, error) {
	return b.env[key], nil
}

// fakeRedis answers -LOADING to the first loading connections, then +PONG, and records the
// AUTH passwords it was given.
type fakeRedis struct {
	mu      sync.Mutex
	loading int
	auths   []string
}

func (f *fakeRedis) serve(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if !strings.HasPrefix(line, "*") {
						continue
					}
					var args []string
					n := int(line[1] - '0')
					for range n {
						r.ReadString('\n') // $len
						a, _ := r.ReadString('\n')
						args = append(args, strings.TrimRight(a, "\r\n"))
					}
					f.mu.Lock()
					switch args[0] {
					case "AUTH":
						f.auths = append(f.auths, args[1])
						c.Write([]byte("+OK\r\n"))
					case "PING":
						if f.loading > 0 {
							f.loading--
							c.Write([]byte("-LOADING Redis is loading the dataset in memory\r\n"))
						} else {
							c.Write([]byte("+PONG\r\n"))
						}
					}
					f.mu.Unlock()
				}
			}()
		}
	}()
	return l.Addr().String()
}

// TestProtocolProbeWaits: a redis probe is not ready while the server says -LOADING, says so
// in the attempts, and is ready at +PONG; the password reaches the server from the spec during
// up and, for status (labels only), from the instance's environment.
func TestProtocolProbeWaits(t *testing.T) {
	srv := &fakeRedis{loading: 3}
	addr := srv.serve(t)
	b := &envBackend{env: map[string]string{ReadyPasswordEnv: "from-env"}}
	inst := Instance{Service: "cache", ProbeAddrs: map[string]string{"cache": addr}}
	spec := ReadySpec{Kind: ProbeRedis, Port: "cache", Password: "from-spec", PasswordEnv: ReadyPasswordEnv, Interval: 10 * time.Millisecond, Timeout: time.Minute}
	var got []ProbeResult
	if err := WaitReady(context.Background(), b, inst, spec, false, func(r ProbeResult) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("attempts %+v, want 3 LOADING and one PONG", got)
	}
	for _, r := range got[:3] {
		if r.OK || r.Detail != "redis: -LOADING Redis is loading the dataset in memory" {
			t.Errorf("attempt %+v, want not ready, quoting -LOADING", r)
		}
	}
	if last := got[3]; !last.OK || last.Detail != "redis: PONG" {
		t.Errorf("last attempt %+v, want ready: redis: PONG", last)
	}

	// status: the label's spec, without the password.
	label := ParseReady(FormatReady(spec))
	ok, detail := ProbeOnce(context.Background(), b, inst, label)
	if !ok || detail != "redis: PONG" {
		t.Errorf("ProbeOnce = %v %q, want ready", ok, detail)
	}
	srv.mu.Lock()
	auths := srv.auths
	srv.mu.Unlock()
	if len(auths) != 5 || auths[0] != "from-spec" || auths[4] != "from-env" {
		t.Errorf("AUTH passwords %q, want from-spec 4 times, then from-env", auths)
	}

	// A backend that cannot read the env says so, once per attempt, without a password.
	ok, detail = ProbeOnce(context.Background(), &slowBackend{fast: 100}, inst, label)
	if ok || !strings.Contains(detail, "the password could not be read back") {
		t.Errorf("ProbeOnce without an EnvReader = %v %q", ok, detail)
	}

	// Nothing listens: the attempt names the kind and the port.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	ok, detail = ProbeOnce(context.Background(), b, Instance{Service: "pg", ProbeAddrs: map[string]string{"pg": closed}}, ReadySpec{Kind: ProbePostgres, Port: "pg"})
	if ok || !strings.HasPrefix(detail, "postgres: port pg: ") || !strings.HasSuffix(detail, "connection refused") {
		t.Errorf("ProbeOnce of a closed port = %v %q", ok, detail)
	}
}

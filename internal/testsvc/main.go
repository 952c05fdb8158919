package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without os.Exit, so that tests can drive it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "probe" {
		return probe(context.Background(), args[1:], stderr)
	}
	if code, ok := tool(args, os.Stdin, stdout, stderr); ok {
		return code
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}

	// Signals are set up before the delay so that a slow-starting service still stops
	// at once.
	sigs := []os.Signal{syscall.SIGTERM, os.Interrupt}
	if cfg.ignoreSigterm {
		signal.Ignore(syscall.SIGTERM)
		sigs = []os.Signal{os.Interrupt}
	}
	// The signal that ends the process is named on stderr, so tests can see which one the
	// engine sent (stop_signal).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	defer signal.Stop(ch)
	go func() {
		select {
		case sig := <-ch:
			fmt.Fprintf(stderr, "testsvc: %s: stopping on %s\n", cfg.name, unix.SignalName(sig.(syscall.Signal)))
			cancel()
		case <-ctx.Done():
		}
	}()
	return serve(ctx, cfg, stdout, stderr)
}

// config is the parsed command line.
type config struct {
	name          string
	httpPorts     []string
	tcpPorts      []string
	healthStatus  int
	healthDelay   time.Duration // how long /healthz takes to answer: a slow health check
	delay         time.Duration
	calls         []string
	callTimeout   time.Duration
	logs          []string
	stderrs       []string
	exit          int
	exitSet       bool // --exit 0 differs from no --exit
	ignoreSigterm bool

	// listening, when set, is told every bound address; tests use it to learn the
	// ports of listeners opened on port 0.
	listening func(kind string, addr net.Addr)
}

// strList is a repeatable string flag.
type strList []string

func (l *strList) String() string     { return strings.Join(*l, ",") }
func (l *strList) Set(v string) error { *l = append(*l, v); return nil }

// exitFlag records both the value of --exit and that it was given.
type exitFlag struct {
	code *int
	set  *bool
}

func (e exitFlag) String() string {
	if e.code == nil {
		return ""
	}
	return strconv.Itoa(*e.code)
}

func (e exitFlag) Set(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 255 {
		return fmt.Errorf("want an exit status 0..255, got %q", v)
	}
	*e.code, *e.set = n, true
	return nil
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("testsvc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	defName := os.Getenv("NAME")
	if defName == "" {
		defName = "testsvc"
	}
	fs.StringVar(&cfg.name, "name", defName, "the service's name (default: $NAME, else testsvc)")
	fs.Var((*strList)(&cfg.httpPorts), "http", "serve HTTP on `PORT` (repeatable)")
	fs.Var((*strList)(&cfg.tcpPorts), "tcp", "accept raw TCP on `PORT`, write the name, close (repeatable)")
	fs.IntVar(&cfg.healthStatus, "health-status", http.StatusOK, "status code of /healthz")
	fs.DurationVar(&cfg.healthDelay, "health-delay", 0, "wait this long before answering /healthz")
	fs.DurationVar(&cfg.delay, "delay", 0, "wait this long before anything else")
	fs.Var((*strList)(&cfg.calls), "call", "GET `URL` at start until it answers 200; exit 1 if it never does (repeatable)")
	fs.DurationVar(&cfg.callTimeout, "call-timeout", 5*time.Second, "how long each --call URL is retried")
	fs.Var((*strList)(&cfg.logs), "log", "print `TEXT` on stdout once listening (repeatable)")
	fs.Var((*strList)(&cfg.stderrs), "stderr", "print `TEXT` on stderr once listening (repeatable)")
	fs.Var(exitFlag{&cfg.exit, &cfg.exitSet}, "exit", "exit with status `N` once started")
	fs.BoolVar(&cfg.ignoreSigterm, "ignore-sigterm", false, "ignore SIGTERM")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "testsvc: unexpected argument %q (subcommand: probe)\n", fs.Arg(0))
		return nil, errors.New("unexpected argument")
	}
	if cfg.healthStatus < 100 || cfg.healthStatus > 999 {
		fmt.Fprintf(stderr, "testsvc: --health-status %d is not an HTTP status\n", cfg.healthStatus)
		return nil, errors.New("bad health status")
	}
	return cfg, nil
}

// listenAddr turns "8080" into ":8080" and leaves "HOST:PORT" alone.
func listenAddr(port string) string {
	if strings.Contains(port, ":") {
		return port
	}
	return ":" + port
}

// serve runs the service until ctx ends (status 0), --exit, or /exit.
func serve(ctx context.Context, cfg *config, stdout, stderr io.Writer) int {
	if cfg.delay > 0 {
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(cfg.delay):
		}
	}

	for _, u := range cfg.calls {
		body, err := callUntilOK(ctx, u, cfg.callTimeout)
		if ctx.Err() != nil {
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "testsvc: %s: dependency %s not reachable: %v\n", cfg.name, u, err)
			return 1
		}
		fmt.Fprintf(stderr, "testsvc: %s: call %s -> %s\n", cfg.name, u, body)
	}

	// exitCh carries the status asked for by /exit. Buffered so that the handler never
	// blocks when several /exit requests race; only the first is used.
	exitCh := make(chan int, 1)
	var servers []*http.Server
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for _, p := range cfg.httpPorts {
		l, err := net.Listen("tcp", listenAddr(p))
		if err != nil {
			fmt.Fprintf(stderr, "testsvc: %s: %v\n", cfg.name, err)
			return 1
		}
		listeners = append(listeners, l)
		if cfg.listening != nil {
			cfg.listening("http", l.Addr())
		}
		srv := &http.Server{Handler: newHandler(cfg, exitCh), ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go srv.Serve(l)
	}
	var tcpWG sync.WaitGroup
	for _, p := range cfg.tcpPorts {
		l, err := net.Listen("tcp", listenAddr(p))
		if err != nil {
			fmt.Fprintf(stderr, "testsvc: %s: %v\n", cfg.name, err)
			return 1
		}
		listeners = append(listeners, l)
		if cfg.listening != nil {
			cfg.listening("tcp", l.Addr())
		}
		tcpWG.Add(1)
		go func() {
			defer tcpWG.Done()
			serveTCP(l, cfg.name)
		}()
	}

	for _, line := range cfg.logs {
		fmt.Fprintln(stdout, line)
	}
	for _, line := range cfg.stderrs {
		fmt.Fprintln(stderr, line)
	}

	code := 0
	if cfg.exitSet {
		code = cfg.exit
	} else {
		select {
		case <-ctx.Done():
		case code = <-exitCh:
		}
	}

	// Shutdown lets an /exit response reach its client before the process ends. The
	// second bounds it, because an idle client must not hold up the exit.
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, s := range servers {
		s.Shutdown(sctx)
	}
	for _, l := range listeners {
		l.Close()
	}
	tcpWG.Wait()
	return code
}

func serveTCP(l net.Listener, name string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return // closed at shutdown
		}
		// A short deadline so a client that never reads cannot pin a goroutine.
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, name+"\n")
		c.Close()
	}
}

func newHandler(cfg *config, exitCh chan<- int) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, cfg.name)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if cfg.healthDelay > 0 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(cfg.healthDelay):
			}
		}
		w.WriteHeader(cfg.healthStatus)
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("/env", func(w http.ResponseWriter, r *http.Request) {
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(env)
	})
	mux.HandleFunc("/call", func(w http.ResponseWriter, r *http.Request) {
		u := r.URL.Query().Get("url")
		if u == "" {
			http.Error(w, "missing ?url=", http.StatusBadRequest)
			return
		}
		body, err := get(r.Context(), u)
		if err != nil {
			http.Error(w, fmt.Sprintf("%s -> %v", cfg.name, err), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "%s -> %s", cfg.name, body)
	})
	addSelfHandlers(mux)
	mux.HandleFunc("/exit", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil || code < 0 || code > 255 {
			http.Error(w, "want ?code=0..255", http.StatusBadRequest)
			return
		}
		w.Header().Set("Connection", "close")
		fmt.Fprintf(w, "exiting %d", code)
		select {
		case exitCh <- code:
		default: // another /exit got there first
		}
	})
	return mux
}

// httpClient has a timeout because a dependency that accepts but never answers must
// not hang a --call check or a probe.
var httpClient = &http.Client{Timeout: 2 * time.Second}

// get GETs u and returns its body, or an error unless it answered 200.
func get(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	// 1 MiB is far more than any test body; the cap keeps a wrong URL harmless.
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return string(b), nil
}

// callUntilOK retries get every 100ms until it succeeds or timeout passes.
func callUntilOK(ctx context.Context, u string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		body, err := get(ctx, u)
		if err == nil {
			return body, nil
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	// An explicit handler: as PID 1 in a container, SIGTERM is otherwise ignored.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	mode := "store"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	var h http.Handler
	var err error
	switch mode {
	case "store":
		h, err = newStore()
	case "front":
		h = front()
	default:
		err = fmt.Errorf("unknown mode %q: want store or front", mode)
	}
	if err == nil {
		def := ":7000"
		if mode == "front" {
			def = ":8080"
		}
		err = serve(ctx, env("LISTEN", def), h)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kv:", err)
		os.Exit(1)
	}
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// password reads the secret file; the value never goes into the environment.
func password() (string, error) {
	p := os.Getenv("KV_PASSWORD_FILE")
	if p == "" {
		return "", errors.New("KV_PASSWORD_FILE is not set")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// report is what the store says about itself.
type report struct {
	Keys     int      `json:"keys"`
	Init     []string `json:"init"`      // the init files loaded at the first boot
	Boots    int      `json:"boots"`     // starts on this data
	Volume   string   `json:"volume"`    // the data directory
	Tmpfs    bool     `json:"tmpfs"`     // the cache directory is a tmpfs
	Region   string   `json:"region"`    // from the env file
	Stage    string   `json:"stage"`     // the build target's stage
	Revision string   `json:"revision"`  // the file's var.revision
	Value    string   `json:"value"`     // the value of ?k=
	Secret   bool     `json:"secret_ok"` // the caller presented the secret's password
}

type store struct {
	mu   sync.Mutex
	path string
	data struct {
		Init  []string          `json:"init"`
		Boots int               `json:"boots"`
		KV    map[string]string `json:"kv"`
	}
	pw string
}

func newStore() (*store, error) {
	pw, err := password()
	if err != nil {
		return nil, fmt.Errorf("the password secret: %w", err)
	}
	s := &store{path: filepath.Join(env("DATA_DIR", "/data"), "kv.json"), pw: pw}
	b, err := os.ReadFile(s.path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s.data); err != nil {
			return nil, err
		}
	case errors.Is(err, os.ErrNotExist):
		s.data.KV = map[string]string{}
		files, _ := filepath.Glob(filepath.Join(env("INIT_DIR", "/docker-entrypoint-initdb.d"), "*.kv"))
		sort.Strings(files)
		for _, f := range files {
			if err := s.load(f); err != nil {
				return nil, err
			}
			s.data.Init = append(s.data.Init, filepath.Base(f))
		}
	default:
		return nil, err
	}
	s.data.Boots++
	if err := s.save(); err != nil {
		return nil, err
	}
	cache := env("CACHE_DIR", "/tmp/cache")
	if err := os.WriteFile(filepath.Join(cache, "warm"), []byte("1"), 0o644); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	return s, nil
}

func (s *store) load(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			s.data.KV[k] = v
		}
	}
	return sc.Err()
}

func (s *store) save() error {
	b, _ := json.Marshal(s.data)
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

func (s *store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" {
		io.WriteString(w, "ok")
		return
	}
	if r.Header.Get("X-Password") != s.pw {
		http.Error(w, "wrong password", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	switch r.URL.Path {
	case "/put":
		s.data.KV[q.Get("k")] = q.Get("v")
		if err := s.save(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	case "/report":
		rep := report{Keys: len(s.data.KV), Init: s.data.Init, Boots: s.data.Boots, Volume: filepath.Dir(s.path),
			Tmpfs: isTmpfs(env("CACHE_DIR", "/tmp/cache")), Region: os.Getenv("KV_REGION"), Stage: os.Getenv("STAGE"),
			Revision: os.Getenv("REVISION"), Value: s.data.KV[q.Get("k")], Secret: true}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(rep)
	default:
		http.NotFound(w, r)
	}
}

// isTmpfs tells whether dir is a tmpfs mount point, from the kernel's own mount table.
func isTmpfs(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, pf := strings.Fields(pre), strings.Fields(post)
		if ok && len(f) >= 5 && len(pf) >= 1 && f[4] == dir && pf[0] == "tmpfs" {
			return true
		}
	}
	return false
}

var client = &http.Client{Timeout: 5 * time.Second}

func front() http.Handler {
	storeURL := os.Getenv("STORE_URL")
	call := func(path string) (string, error) {
		pw, err := password()
		if err != nil {
			return "", err
		}
		req, _ := http.NewRequest(http.MethodGet, storeURL+path, nil)
		req.Header.Set("X-Password", pw)
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("store: %s: %s", resp.Status, strings.TrimSpace(string(b)))
		}
		return string(b), nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /put", func(w http.ResponseWriter, r *http.Request) {
		out, err := call("/put?" + r.URL.RawQuery)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.WriteString(w, out)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		body, err := call("/report?k=" + url.QueryEscape(r.URL.Query().Get("k")))
		if err != nil {
			http.Error(w, "front -> "+err.Error(), http.StatusBadGateway)
			return
		}
		var rep report
		if err := json.Unmarshal([]byte(body), &rep); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "front (stage %s) -> store (stage %s, revision %s): init %s, %d keys, boot %d on volume %s, tmpfs cache %v, secret ok %v, region %s from env file",
			os.Getenv("STAGE"), rep.Stage, rep.Revision, strings.Join(rep.Init, ","), rep.Keys, rep.Boots, rep.Volume, rep.Tmpfs, rep.Secret, rep.Region)
		if k := r.URL.Query().Get("k"); k != "" {
			fmt.Fprintf(w, ", %s=%s", k, rep.Value)
		}
		io.WriteString(w, "\n")
	})
	return mux
}

func serve(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

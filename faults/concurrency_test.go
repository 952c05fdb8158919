package faults

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// chainFile is db <- api <- web; each service's testsvc --name carries the environment's name,
// so what one service answers through /call proves whose dependency it reached.
const chainFile = `variable "img" {}
service "db" {
  image   = var.img
  command = ["--http", "80", "--name", "${environment.name}-db"]
  ports   = { http = 80 }
}
service "api" {
  image   = var.img
  command = ["--http", "80", "--name", "${environment.name}-api"]
  env     = { DB = "http://${service.db.host}:${service.db.ports.http}/" }
  ports   = { http = 80 }
}
service "web" {
  image   = var.img
  command = ["--http", "80", "--name", "${environment.name}-web"]
  env     = { API = "http://${service.api.host}:${service.api.ports.http}/" }
  ports   = { http = 80 }
}
`

// concurrentEnvs is how many environments come up at once. Docker's default address pools
// allow about 30 bridge networks, and other packages' tests hold some at the same time.
const concurrentEnvs = 20

// TestConcurrentUps brings up one file under 20 names at once: all become ready; each
// service reaches its own environment's dependency (the answer carries that environment's
// name) and not another's; every published host port is distinct; then 20 concurrent downs
// remove everything.
func TestConcurrentUps(t *testing.T) {
	img := needDocker(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "envctl.hcl", chainFile)
	names := make([]string, concurrentEnvs)
	for i := range names {
		names[i] = newEnvName(t, fmt.Sprintf("c%02d", i))
		cleanupEnv(t, names[i])
	}

	ups := parallel(t, names, func(env string) result {
		return envctl(t, dir, nil, append([]string{"up", "--name", env, "-f", file}, imgVar(img)...)...)
	})
	var slowest time.Duration
	for i, r := range ups {
		if r.code != 0 {
			t.Errorf("environment %s: got exit %d, want 0\n%s", names[i], r.code, r)
		}
		slowest = max(slowest, r.duration)
	}
	t.Logf("%d concurrent ups: slowest %s", len(names), slowest.Round(time.Millisecond))
	if t.Failed() {
		t.FailNow()
	}

	ports := map[string]string{} // host port => env/service that published it
	for i, env := range names {
		eps := endpoints(t, dir, env)
		for svc, addr := range eps {
			if !strings.HasPrefix(addr, "127.0.0.1:") {
				t.Errorf("%s %s: published on %s, want 127.0.0.1", env, svc, addr)
			}
			if other, dup := ports[addr]; dup {
				t.Errorf("host port %s: published by both %s and %s/%s", addr, other, env, svc)
			}
			ports[addr] = env + "/" + svc
		}
		checks := []struct{ from, url, want string }{
			{"WEB_HTTP", "http://api:80/", env + "-web -> " + env + "-api"},
			{"API_HTTP", "http://db:80/", env + "-api -> " + env + "-db"},
		}
		for _, c := range checks {
			got, status := get(t, "http://"+eps[c.from]+"/call?url="+c.url)
			if status != http.StatusOK || got != c.want {
				t.Errorf("%s: %s /call %s: got %d %q, want 200 %q", env, c.from, c.url, status, got, c.want)
			}
		}
		// Another environment's api, by its container name, is not reachable from here:
		// each environment is its own network.
		other := names[(i+1)%len(names)]
		if got, status := get(t, "http://"+eps["WEB_HTTP"]+"/call?url=http://"+other+"-api:80/"); status == http.StatusOK {
			t.Errorf("%s's web reached %s's api (%q), want it isolated", env, other, got)
		}
	}
	if want := 3 * len(names); len(ports) != want {
		t.Errorf("got %d distinct published host ports, want %d", len(ports), want)
	}

	downs := parallel(t, names, func(env string) result { return envctl(t, dir, nil, "down", env) })
	slowest = 0
	for i, r := range downs {
		if r.code != 0 {
			t.Errorf("down %s: got exit %d, want 0\n%s", names[i], r.code, r)
		}
		slowest = max(slowest, r.duration)
		wantNothingLeft(t, names[i])
	}
	t.Logf("%d concurrent downs: slowest %s", len(names), slowest.Round(time.Millisecond))
}

// parallel runs fn for every name at once and returns the results in order.
func parallel(t testing.TB, names []string, fn func(string) result) []result {
	t.Helper()
	out := make([]result, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = fn(n)
		}()
	}
	wg.Wait()
	return out
}

// endpoints is `envctl env NAME --format json`.
func endpoints(t testing.TB, dir, env string) map[string]string {
	t.Helper()
	r := envctl(t, dir, nil, "env", env, "--format", "json")
	wantExit(t, r, 0)
	var eps map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &eps); err != nil {
		t.Fatalf("env %s --format json: %v\n%s", env, err, r)
	}
	out := map[string]string{}
	for k, v := range eps {
		// Only the NAME_PORT entries; NAME_PORT_HOST, _PORT and ENVCTL_ENV are parts of them.
		if strings.HasSuffix(k, "_HOST") || strings.HasSuffix(k, "_PORT") || k == "ENVCTL_ENV" {
			continue
		}
		out[k] = v
	}
	if keys := sortedKeys(out); !slices.Equal(keys, []string{"API_HTTP", "DB_HTTP", "WEB_HTTP"}) {
		t.Fatalf("env %s: got endpoints %q, want API_HTTP, DB_HTTP, WEB_HTTP\n%s", env, keys, r)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// httpClient bounds each request: a service that accepts but never answers must not hang the
// test. /call itself gives up on an unreachable URL within 2 s.
var httpClient = &http.Client{Timeout: 10 * time.Second}

// get GETs url and returns the body and status (0 if the request failed).
func get(t testing.TB, url string) (string, int) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		return err.Error(), 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(b), resp.StatusCode
}

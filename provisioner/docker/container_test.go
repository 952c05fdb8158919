package docker

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/envctl/envctl/provisioner"
)

func TestStartObserveStopRemove(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()

	ports := []provisioner.Port{{Name: "admin", Port: 9090}, {Name: "http", Port: 8080}}
	spec := testSpec(env, "web", img, ports, "--name", "web", "--http", "8080", "--http", "9090")
	spec.Environment["GREETING"] = "hello"
	spec.CPUs = 0.5
	spec.Memory = 64 << 20
	started, err := b.Start(ctx, spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}

	// What Start returned is what the engine holds.
	if started.State != provisioner.StateRunning {
		t.Errorf("Start: state %v, want running", started.State)
	}
	if started.Started.IsZero() {
		t.Errorf("Start: Started is zero, want the start time")
	}
	// The engine merges the image's labels into the container's; the spec's win.
	hk := housekeeping(t)
	imgInfo, err := hk.ImageInspect(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{}
	if imgInfo.Config != nil {
		for k, v := range imgInfo.Config.Labels {
			wantLabels[k] = v
		}
	}
	for k, v := range spec.Labels {
		wantLabels[k] = v
	}
	if diff := cmp.Diff(wantLabels, started.Labels); diff != "" {
		t.Errorf("Start: labels (-want +got):\n%s", diff)
	}
	for _, name := range []string{"http", "admin"} {
		pub := started.Published[name]
		if !strings.HasPrefix(pub, "127.0.0.1:") || strings.HasSuffix(pub, ":0") {
			t.Errorf("Start: Published[%s] = %q, want 127.0.0.1:<ephemeral port>", name, pub)
		}
	}

	// The published port answers on the host, and so does the probe address (the container's
	// own address on the environment's network).
	if code, body := httpGet(t, "http://"+started.Published["http"]+"/"); code != 200 || body != "web" {
		t.Errorf("GET published /: %d %q, want 200 \"web\"", code, body)
	}
	if code, body := httpGet(t, "http://"+started.ProbeAddrs["admin"]+"/healthz"); code != 200 || body != "ok" {
		t.Errorf("GET probe addr /healthz: %d %q, want 200 \"ok\"", code, body)
	}
	_, envJSON := httpGet(t, "http://"+started.Published["http"]+"/env")
	var procEnv map[string]string
	if err := json.Unmarshal([]byte(envJSON), &procEnv); err != nil {
		t.Fatalf("GET /env: %v in %q", err, envJSON)
	}
	if procEnv["GREETING"] != "hello" || procEnv["NAME"] != "web" {
		t.Errorf("container environment GREETING=%q NAME=%q, want hello, web", procEnv["GREETING"], procEnv["NAME"])
	}

	// Resources are applied.
	raw, err := hk.ContainerInspect(ctx, started.ID)
	if err != nil {
		t.Fatal(err)
	}
	if raw.HostConfig.NanoCPUs != 5e8 || raw.HostConfig.Memory != 64<<20 {
		t.Errorf("resources: NanoCPUs=%d Memory=%d, want 500000000, %d", raw.HostConfig.NanoCPUs, raw.HostConfig.Memory, 64<<20)
	}
	if raw.HostConfig.RestartPolicy.Name != "" && raw.HostConfig.RestartPolicy.Name != container.RestartPolicyDisabled {
		t.Errorf("restart policy %q, want none", raw.HostConfig.RestartPolicy.Name)
	}

	observed, err := b.Observe(ctx, env)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	ip, _, _ := net.SplitHostPort(started.ProbeAddrs["http"])
	want := []provisioner.Instance{{
		ID:         started.ID,
		Name:       env + "-web",
		Env:        env,
		Service:    "web",
		Labels:     wantLabels,
		State:      provisioner.StateRunning,
		Host:       "web",
		Ports:      map[string]int{"admin": 9090, "http": 8080},
		Published:  started.Published,
		ProbeAddrs: map[string]string{"admin": ip + ":9090", "http": ip + ":8080"},
		ImageID:    started.ImageID,
	}}
	if !strings.HasPrefix(started.ImageID, "sha256:") {
		t.Errorf("Start: ImageID %q, want the image's sha256 ID", started.ImageID)
	}
	// Observe reads one list call, which has no start time and whole-second creation times.
	if diff := cmp.Diff(want, observed, cmpopts.IgnoreFields(provisioner.Instance{}, "Created", "Started")); diff != "" {
		t.Errorf("Observe (-want +got):\n%s", diff)
	}
	if d := started.Created.Sub(observed[0].Created); d < 0 || d >= time.Second {
		t.Errorf("Observe: Created %v, want %v truncated to the second", observed[0].Created, started.Created)
	}
	inspected, err := b.Inspect(ctx, observed[0])
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if diff := cmp.Diff(started, inspected); diff != "" {
		t.Errorf("Inspect differs from Start's result (-start +inspect):\n%s", diff)
	}

	// The whole-envctl view includes the environment too.
	all, err := b.Observe(ctx, "")
	if err != nil {
		t.Fatalf("Observe(\"\"): %v", err)
	}
	if !containsID(all, started.ID) {
		t.Errorf("Observe(\"\") does not list %s", started.Name)
	}

	if err := b.Stop(ctx, started, 5*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stopped, err := b.Inspect(ctx, started)
	if err != nil {
		t.Fatal(err)
	}
	if stopped.State != provisioner.StateExited || stopped.ExitCode != 0 {
		t.Errorf("after Stop: state %v exit %d, want exited 0 (testsvc ends on SIGTERM)", stopped.State, stopped.ExitCode)
	}
	if len(stopped.ProbeAddrs) != 0 {
		t.Errorf("after Stop: ProbeAddrs %v, want none", stopped.ProbeAddrs)
	}
	if err := b.Stop(ctx, started, time.Second); err != nil {
		t.Errorf("second Stop: %v, want nil", err)
	}

	if err := b.Remove(ctx, started); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	observed, err = b.Observe(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(observed) != 0 {
		t.Errorf("Observe after Remove: %d instances, want 0", len(observed))
	}
	if err := b.Remove(ctx, started); err != nil {
		t.Errorf("Remove of a removed container: %v, want nil", err)
	}
	if err := b.Stop(ctx, started, 0); err != nil {
		t.Errorf("Stop of a removed container: %v, want nil", err)
	}
}

func containsID(insts []provisioner.Instance, id string) bool {
	for _, in := range insts {
		if in.ID == id {
			return true
		}
	}
	return false
}

func TestStartConflictNamesTheContainer(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()

	first, err := b.Start(ctx, testSpec(env, "db", img, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Start(ctx, testSpec(env, "db", img, nil))
	if err == nil || !strings.Contains(err.Error(), `"`+env+`-db" already exists`) {
		t.Fatalf("second Start: %v, want an error naming %s-db", err, env)
	}
	// The conflict must not have removed the first container.
	got, err := b.Inspect(ctx, first)
	if err != nil || got.State != provisioner.StateRunning {
		t.Errorf("first container after conflict: %v %v, want running", got.State, err)
	}
}

func TestStartRefusesMismatchedLabels(t *testing.T) {
	b := testBackend(t)
	env := newEnv(t, b)
	spec := testSpec(env, "api", "unused:1", nil)
	spec.Labels[provisioner.LabelEnv] = "other"
	_, err := b.Start(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), provisioner.LabelEnv) {
		t.Fatalf("Start: %v, want an error about %s", err, provisioner.LabelEnv)
	}
}

func TestFailedStartLeavesNoContainer(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()

	spec := testSpec(env, "broken", img, []provisioner.Port{{Name: "http", Port: 8080}})
	spec.Entrypoint = []string{"/no/such/binary"} // the create succeeds, the start fails
	_, err := b.Start(ctx, spec)
	if err == nil {
		t.Fatal("Start with a missing entrypoint: nil error, want one")
	}
	if !strings.Contains(err.Error(), env+"-broken") {
		t.Errorf("Start error %q does not name the container", err)
	}
	insts, err := b.Observe(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 0 {
		t.Errorf("after a failed Start: %d containers, want 0 (removed)", len(insts))
	}
	// The same name is free again.
	spec.Entrypoint = nil
	if _, err := b.Start(ctx, spec); err != nil {
		t.Errorf("Start after a failed Start: %v", err)
	}
}

func TestServicesReachEachOtherByAlias(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()

	if _, err := b.Start(ctx, testSpec(env, "api", img, []provisioner.Port{{Name: "http", Port: 8080}}, "--name", "api", "--http", "8080")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		service string
		call    string
		want    int
	}{
		{"caller", "http://api:8080/", 0},
		{"lost", "http://nosuch:8080/", 1}, // proves the job can fail: no such alias
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			spec := testSpec(env, tt.service, img, nil, "--call", tt.call, "--call-timeout", "3s", "--exit", "0")
			spec.Once = true
			inst, err := b.Start(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			got := waitState(t, b, inst, provisioner.StateExited, 30*time.Second)
			if got.ExitCode != tt.want {
				t.Errorf("%s calling %s: exit %d, want %d", tt.service, tt.call, got.ExitCode, tt.want)
			}
		})
	}
}

func TestJobExitCodes(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()

	for _, code := range []int{0, 3, 42} {
		spec := testSpec(env, "job-"+strconv.Itoa(code), img, nil, "--exit", strconv.Itoa(code))
		spec.Once = true
		inst, err := b.Start(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		got := waitState(t, b, inst, provisioner.StateExited, 30*time.Second)
		if got.ExitCode != code {
			t.Errorf("Inspect %s: exit %d, want %d", spec.Service, got.ExitCode, code)
		}
	}
	// Observe reads the same exit codes from the list's status text.
	insts, err := b.Observe(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, in := range insts {
		if in.State != provisioner.StateExited {
			t.Errorf("Observe %s: state %v, want exited", in.Service, in.State)
		}
		got[in.Service] = in.ExitCode
	}
	want := map[string]int{"job-0": 0, "job-3": 3, "job-42": 42}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Observe exit codes (-want +got):\n%s", diff)
	}
}

func TestStopGrace(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()

	tests := []struct {
		name     string
		args     []string
		grace    time.Duration
		wantExit int
		minTime  time.Duration
	}{
		{"sigterm", nil, 10 * time.Second, 0, 0},
		{"ignored-sigterm-killed-after-grace", []string{"--ignore-sigterm"}, 1500 * time.Millisecond, 137, 2 * time.Second}, // 1.5 s rounds up to 2 s
		{"no-grace", []string{"--ignore-sigterm"}, 0, 137, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst, err := b.Start(ctx, testSpec(env, tt.name, img, nil, tt.args...))
			if err != nil {
				t.Fatal(err)
			}
			// Give testsvc a moment to install its signal handler before it is signalled.
			time.Sleep(300 * time.Millisecond)
			t0 := time.Now()
			if err := b.Stop(ctx, inst, tt.grace); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			took := time.Since(t0)
			got, err := b.Inspect(ctx, inst)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != provisioner.StateExited || got.ExitCode != tt.wantExit {
				t.Errorf("after Stop(%v): %v exit %d, want exited %d", tt.grace, got.State, got.ExitCode, tt.wantExit)
			}
			if took < tt.minTime {
				t.Errorf("Stop(%v) took %v, want at least %v (the grace period)", tt.grace, took, tt.minTime)
			}
			if tt.grace == 0 && took > 5*time.Second {
				t.Errorf("Stop(0) took %v, want an immediate kill", took)
			}
		})
	}
}

package docker

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/volume"

	"github.com/envctl/envctl/provisioner"
)

// selfInfo mirrors internal/testsvc's /self answer.
type selfInfo struct {
	UID, GID int
	Cwd      string
	Hostname string
	PID      int
	PID1     string
	Rlimits  map[string]string
	CapEff   string
	Mounts   map[string]string
	ShmSize  int64
}

type fileInfo struct {
	Content string
	Mode    string
	UID     int
	Error   string
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	code, body := httpGet(t, u)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", u, code, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v in %q", u, err, body)
	}
}

// TestContainerSettings proves every container setting of attrs.md from inside the container
// (testsvc's /self and /file), and that the secret shows in neither labels nor inspect.
func TestContainerSettings(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()

	repo := t.TempDir()
	os.WriteFile(filepath.Join(repo, "init.sql"), []byte("create table t();\n"), 0o644)
	os.MkdirAll(filepath.Join(repo, "conf", "sub"), 0o755)
	os.WriteFile(filepath.Join(repo, "conf", "sub", "a.conf"), []byte("a=1\n"), 0o644)

	ports := []provisioner.Port{{Name: "http", Port: 8080}}
	spec := testSpec(env, "db", img, ports, "--name", "db", "--http", "8080")
	spec.User = "1000:1000"
	spec.WorkingDir = "/work/dir"
	spec.Hostname = "db1"
	spec.Aliases = []string{"database"}
	spec.Init = true
	spec.ShmSize = 96 << 20
	spec.CapAdd = []string{"NET_ADMIN"}
	spec.CapDrop = []string{"ALL"}
	spec.ExtraHosts = map[string]string{"host.example": "10.1.2.3"}
	spec.Ulimits = []provisioner.Ulimit{{Name: "core", Soft: 512, Hard: 1024}, {Name: "nofile", Soft: 1024, Hard: 2048}}
	spec.StopSignal = "SIGINT"
	spec.StopGrace = 3 * time.Second
	spec.Mounts = []provisioner.Mount{
		{Type: provisioner.MountBind, Source: filepath.Join(repo, "init.sql"), Target: "/docker-entrypoint-initdb.d/init.sql", ReadOnly: true},
		{Type: provisioner.MountBind, Source: filepath.Join(repo, "conf"), Target: "/etc/app"},
		{Type: provisioner.MountTmpfs, Target: "/tmp/cache", Size: 8 << 20},
	}
	spec.Files = []provisioner.File{{Name: "db_password", Target: "/run/secrets/db_password", Mode: 0o400, Data: []byte("s3cr3t-value")}}
	inst, err := b.Start(ctx, spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	base := "http://" + inst.Published["http"]

	var me selfInfo
	getJSON(t, base+"/self", &me)
	if me.UID != 1000 || me.GID != 1000 {
		t.Errorf("user: uid %d gid %d, want 1000:1000", me.UID, me.GID)
	}
	if me.Cwd != "/work/dir" {
		t.Errorf("working_dir: %q", me.Cwd)
	}
	if me.Hostname != "db1" {
		t.Errorf("hostname: %q", me.Hostname)
	}
	if me.PID == 1 || strings.HasPrefix(me.PID1, "/testsvc") {
		t.Errorf("init: testsvc is PID %d and PID 1 is %q; want an init as PID 1", me.PID, me.PID1)
	}
	// Go raises its own soft nofile limit at start, so only the hard one is the engine's.
	if !strings.HasSuffix(me.Rlimits["nofile"], ":2048") || me.Rlimits["core"] != "512:1024" {
		t.Errorf("ulimits: nofile %q, core %q; want hard 2048, 512:1024", me.Rlimits["nofile"], me.Rlimits["core"])
	}
	if me.ShmSize != 96<<20 {
		t.Errorf("shm_size: %d, want %d", me.ShmSize, 96<<20)
	}
	// A non-root process has no effective capabilities whatever the bounding set; the
	// bounding set is checked through an exec as root below.
	if m := me.Mounts["/tmp/cache"]; !strings.HasPrefix(m, "tmpfs ") || !strings.Contains(m, "size=8192k") {
		t.Errorf("tmpfs: /tmp/cache is %q, want tmpfs with size=8192k", m)
	}

	file := func(p string) fileInfo {
		var fi fileInfo
		getJSON(t, base+"/file?path="+url.QueryEscape(p), &fi)
		return fi
	}
	if fi := file("/docker-entrypoint-initdb.d/init.sql"); fi.Content != "create table t();\n" || fi.Mode != "-r--r--r--" {
		t.Errorf("bind file: %+v, want the content, read-only", fi)
	}
	if fi := file("/etc/app/sub/a.conf"); fi.Content != "a=1\n" || fi.Mode != "-rw-r--r--" {
		t.Errorf("bind directory: %+v, want the content, writable mode", fi)
	}
	if fi := file("/run/secrets/db_password"); fi.Content != "s3cr3t-value" || fi.Mode != "-r--------" || fi.UID != 1000 {
		t.Errorf("secret: %+v, want the value, mode 0400, owned by 1000", fi)
	}
	if fi := file("/etc/hosts"); !strings.Contains(fi.Content, "10.1.2.3\thost.example") {
		t.Errorf("extra_hosts: /etc/hosts is %q", fi.Content)
	}

	// The capabilities, as root (exec runs as the container's user, so the bounding set is
	// read from PID 1's status through the root-owned /proc).
	code, out, err := b.Exec(ctx, inst, []string{"/testsvc", "cat", "/proc/self/status"})
	if err != nil || code != 0 {
		t.Fatalf("exec cat status: %d %v %s", code, err, out)
	}
	capBnd := ""
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			capBnd = strings.TrimSpace(v)
		}
	}
	if capBnd != "0000000000001000" { // only CAP_NET_ADMIN (bit 12)
		t.Errorf("cap_add/cap_drop: CapBnd %s, want 0000000000001000 (NET_ADMIN only)", capBnd)
	}

	// Another service reaches it by its alias.
	other := testSpec(env, "client", img, ports, "--name", "client", "--http", "8080")
	oinst, err := b.Start(ctx, other)
	if err != nil {
		t.Fatalf("Start client: %v", err)
	}
	if code, body := httpGet(t, "http://"+oinst.Published["http"]+"/call?url="+url.QueryEscape("http://database:8080/")); code != 200 || body != "client -> db" {
		t.Errorf("alias: %d %q", code, body)
	}

	// The secret is in no label and nowhere in the inspect document.
	doc, err := b.Describe(ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(doc), "s3cr3t-value") {
		t.Errorf("the secret's value shows in docker inspect")
	}
	for k, v := range inst.Labels {
		if strings.Contains(k+v, "s3cr3t") {
			t.Errorf("the secret shows in label %s=%s", k, v)
		}
	}

	if err := b.Stop(ctx, inst, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// stop_signal: testsvc names the signal that stopped it.
	var logs strings.Builder
	if err := b.Logs(ctx, inst, provisioner.LogOptions{}, &logs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "stopping on SIGINT") {
		t.Errorf("stop_signal: the logs do not say SIGINT:\n%s", logs.String())
	}
	if err := b.Remove(ctx, inst); err != nil {
		t.Fatal(err)
	}

	// Data written to a volume survives the container's recreation.
	store := testSpec(env, "store", img, ports, "--name", "store", "--http", "8080")
	store.Mounts = []provisioner.Mount{{Type: provisioner.MountVolume, Source: "data", Target: "/data"}}
	inst, err = b.Start(ctx, store)
	if err != nil {
		t.Fatalf("Start store: %v", err)
	}
	getJSON(t, "http://"+inst.Published["http"]+"/self", &me)
	if m := me.Mounts["/data"]; m == "" {
		t.Errorf("volume: /data is not a mount point: %v", me.Mounts)
	}
	if code, body := httpGet(t, "http://"+inst.Published["http"]+"/write?path=/data/x&data=kept"); code != 200 {
		t.Fatalf("write to the volume: %d %s", code, body)
	}
	if err := b.Remove(ctx, inst); err != nil {
		t.Fatal(err)
	}
	inst, err = b.Start(ctx, store)
	if err != nil {
		t.Fatalf("Start store again: %v", err)
	}
	if fi := func() fileInfo {
		var fi fileInfo
		getJSON(t, "http://"+inst.Published["http"]+"/file?path=/data/x", &fi)
		return fi
	}(); fi.Content != "kept" {
		t.Errorf("volume after recreation: %+v, want \"kept\"", fi)
	}
	// The volume is the environment's, labelled; rollback-style removal takes only what this
	// Backend created, which here is the volume.
	hk := housekeeping(t)
	v, err := hk.VolumeInspect(ctx, env+"-data")
	if err != nil || v.Labels[provisioner.LabelEnv] != env || v.Labels[LabelVolume] != "data" {
		t.Errorf("volume %s-data: %v %v", env, v.Labels, err)
	}
	other2, err := New(ctx) // another process: it created nothing
	if err != nil {
		t.Fatal(err)
	}
	defer other2.Close()
	removeEnvContainers(t, b, env)
	if err := other2.RemoveVolumes(ctx, env, true); err != nil {
		t.Fatal(err)
	}
	if _, err := hk.VolumeInspect(ctx, env+"-data"); err != nil {
		t.Errorf("a rollback of a process that did not create the volume removed it: %v", err)
	}
	if err := other2.RemoveVolumes(ctx, env, false); err != nil {
		t.Fatal(err)
	}
	if _, err := hk.VolumeInspect(ctx, env+"-data"); err == nil {
		t.Errorf("down left the volume")
	}
}

// removeEnvContainers removes env's containers only.
func removeEnvContainers(t *testing.T, b *Backend, env string) {
	t.Helper()
	ctx := context.Background()
	insts, err := b.Observe(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, inst := range insts {
		if err := b.Remove(ctx, inst); err != nil {
			t.Fatal(err)
		}
	}
}

// TestForeignVolumeRefused: a volume of the same name that is not the environment's is never
// used.
func TestForeignVolumeRefused(t *testing.T) {
	b := testBackend(t)
	img := testsvcImage(t)
	env := newEnv(t, b)
	ctx := context.Background()
	hk := housekeeping(t)
	name := env + "-data"
	if _, err := hk.VolumeCreate(ctx, volumeCreate(name)); err != nil {
		t.Fatal(err)
	}
	defer hk.VolumeRemove(ctx, name, true)
	spec := testSpec(env, "db", img, nil)
	spec.Mounts = []provisioner.Mount{{Type: provisioner.MountVolume, Source: "data", Target: "/data"}}
	_, err := b.Start(ctx, spec)
	if err == nil || !strings.Contains(err.Error(), "is not environment") {
		t.Fatalf("Start: %v, want a refusal of the foreign volume", err)
	}
}

func volumeCreate(name string) volume.CreateOptions { return volume.CreateOptions{Name: name} }

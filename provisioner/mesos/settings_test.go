package mesos

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
	"github.com/envctl/envctl/provisioner"
)

// TestSettingsCarried: the container settings the Docker containerizer can carry reach the
// container (proved from inside it, through testsvc's /self and /file).
func TestSettingsCarried(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	_, url := double(t, mesostestOptions())
	b := backend(t, url, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := uniqueEnv("settings")
	tg := target(t, fmt.Sprintf(`
environment { name = "%s" }
variable "img" { type = string }
service "web" {
  image       = var.img
  command     = ["--http", "8080"]
  ports       = { http = 8080 }
  user        = "1000:1000"
  working_dir = "/tmp"
  hostname    = "web1"
  init        = true
  shm_size    = "80MiB"
  cap_drop    = ["ALL"]
  extra_hosts = { "host.example" = "10.9.8.7" }
  ulimits     = { core = "100:200" }
  stop_signal = "SIGINT"
  stop_grace_period = "3s"
  mount {
    type   = "tmpfs"
    target = "/scratch"
    size   = "4MiB"
  }
}
`, name), time.Hour, "img="+img)
	defer down(t, b, name)
	res := up(t, ctx, b, tg)
	if res.Err != nil {
		t.Fatalf("up: %v", res.Err)
	}
	web := res.Service("web").Instance
	get := func(path string, v any) {
		resp, err := http.Get("http://" + web.Published["http"] + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v in %q", path, err, body)
		}
	}
	var me struct {
		UID, GID int
		Cwd      string
		Hostname string
		PID1     string
		Rlimits  map[string]string
		Mounts   map[string]string
		ShmSize  int64
	}
	get("/self", &me)
	if me.UID != 1000 || me.GID != 1000 || me.Cwd != "/tmp" || me.Hostname != "web1" {
		t.Errorf("user/working_dir/hostname: %d:%d %q %q", me.UID, me.GID, me.Cwd, me.Hostname)
	}
	if strings.HasPrefix(me.PID1, "/testsvc") {
		t.Errorf("init: PID 1 is %q", me.PID1)
	}
	if me.Rlimits["core"] != "100:200" || me.ShmSize != 80<<20 {
		t.Errorf("ulimits/shm_size: %v %d", me.Rlimits, me.ShmSize)
	}
	if m := me.Mounts["/scratch"]; !strings.HasPrefix(m, "tmpfs ") || !strings.Contains(m, "size=4096k") {
		t.Errorf("tmpfs: %q", m)
	}
	var hosts struct{ Content string }
	get("/file?path=/etc/hosts", &hosts)
	if !strings.Contains(hosts.Content, "10.9.8.7\thost.example") {
		t.Errorf("extra_hosts: %q", hosts.Content)
	}
}

// TestSettingsRefused: what the Docker containerizer cannot carry is refused by name.
func TestSettingsRefused(t *testing.T) {
	for _, tt := range []struct {
		spec provisioner.Spec
		want string
	}{
		{provisioner.Spec{Service: "db", Mounts: []provisioner.Mount{{Type: provisioner.MountBind, Source: "/x", Target: "/init.sql"}}}, `service "db": mount (bind) /init.sql cannot be carried to Mesos`},
		{provisioner.Spec{Service: "db", Mounts: []provisioner.Mount{{Type: provisioner.MountVolume, Source: "data", Target: "/d"}}}, `service "db": mount (volume) data cannot be carried`},
		{provisioner.Spec{Service: "db", Files: []provisioner.File{{Name: "pw"}}}, `service "db": secret "pw" cannot be carried`},
		{provisioner.Spec{Service: "db", Aliases: []string{"pg"}}, `service "db": aliases cannot be carried`},
		{provisioner.Spec{Service: "db", Mounts: []provisioner.Mount{{Type: provisioner.MountTmpfs, Target: "/t"}}, User: "1"}, ""},
	} {
		err := CheckSpec(tt.spec)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckSpec(%+v) = %v, want %q", tt.spec, err, tt.want)
		}
	}
}

package compose_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/cli"
	"github.com/envctl/envctl/internal/testimage"
)

// TestImportedStackInside imports a project the way a team would (a compose file, an
// overlay, a file it extends, the .env beside it) with envctl import compose, brings the
// result up on the real engine, and asks the service from inside its container what it
// got: the project file mounted, the named volume, the tmpfs, the secret, the env file, the
// .env variable, the user and the working directory.
func TestImportedStackInside(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	dir := t.TempDir()
	files := map[string]string{
		".env":               "GREETING=from-dotenv\nAPP_SECRET_TOKEN=s3cr3t-token\n",
		"seed/hello.txt":     "hello from the repository\n",
		"secrets/db_pw.txt":  "pw-from-file\n",
		"app.env":            "APP_MODE=from-env-file\n",
		"common/base.yml":    "services:\n  base:\n    user: \"1000:1000\"\n    working_dir: /work\n    tmpfs: [/scratch]\n",
		"docker-compose.yml": "services:\n  app:\n    extends: {file: common/base.yml, service: base}\n    image: ${IMAGE}\n    command: [--http, \"8080\"]\n    ports: [\"${APP_PORT:-8080}:8080\"]\n    environment:\n      GREETING: ${GREETING}\n      TOKEN: ${APP_SECRET_TOKEN}\n    env_file: app.env\n    volumes:\n      - ./seed/hello.txt:/seed/hello.txt:ro\n      - data:/data\n    secrets: [db_pw]\nvolumes:\n  data: {}\nsecrets:\n  db_pw:\n    file: ./secrets/db_pw.txt\n",
		"ci.yml":             "services:\n  app:\n    environment:\n      STAGE: ci\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "envctl.hcl")
	var stdout, stderr bytes.Buffer
	args := []string{"envctl", "import", "compose", "-f", filepath.Join(dir, "docker-compose.yml"), "-f", filepath.Join(dir, "ci.yml"), "--out", out}
	if code := cli.Main(args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("envctl import compose: exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), ".env has values for APP_SECRET_TOKEN") {
		t.Errorf("import did not say the sensitive .env value stays in .env:\n%s", stderr.String())
	}
	hcl, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(hcl, []byte("s3cr3t-token")) {
		t.Fatalf("the sensitive .env value was copied into the environment file:\n%s", hcl)
	}

	name := envName(t)
	t.Cleanup(func() {
		var o, e bytes.Buffer
		cli.Main([]string{"envctl", "down", name}, nil, &o, &e)
		removeEnv(t, name)
	})
	stdout.Reset()
	stderr.Reset()
	up := []string{"envctl", "up", "-f", out, "--name", name, "-o", "json", "--timeout", "3m",
		"--var", "IMAGE=" + img, "--var", "APP_SECRET_TOKEN=s3cr3t-token"}
	if code := cli.Main(up, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("envctl up: exit %d\n%s\n%s\n%s", code, stdout.String(), stderr.String(), hcl)
	}
	var doc struct {
		Services []struct {
			Name      string            `json:"name"`
			Endpoints map[string]string `json:"endpoints"`
		} `json:"services"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil || len(doc.Services) != 1 {
		t.Fatalf("envctl up -o json: %v\n%s", err, stdout.String())
	}
	base := "http://" + doc.Services[0].Endpoints["http"]

	get := func(path string, v any) {
		t.Helper()
		c := &http.Client{Timeout: 10 * time.Second}
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}
	type file struct{ Content, Mode, Error string }
	for path, want := range map[string]string{
		"/seed/hello.txt":    "hello from the repository\n",
		"/run/secrets/db_pw": "pw-from-file\n",
	} {
		var f file
		get("/file?path="+path, &f)
		if f.Content != want {
			t.Errorf("%s inside the container: got %q (%s), want %q", path, f.Content, f.Error, want)
		}
	}
	var env map[string]string
	get("/env", &env)
	for k, want := range map[string]string{"GREETING": "from-dotenv", "TOKEN": "s3cr3t-token", "APP_MODE": "from-env-file", "STAGE": "ci"} {
		if env[k] != want {
			t.Errorf("env %s inside the container: got %q, want %q", k, env[k], want)
		}
	}
	var self struct {
		UID    int
		Cwd    string
		Mounts map[string]string
	}
	get("/self", &self)
	if self.UID != 1000 || self.Cwd != "/work" {
		t.Errorf("user and working_dir from the extended file: got uid %d, cwd %q; want 1000, /work", self.UID, self.Cwd)
	}
	if m := self.Mounts["/scratch"]; !strings.HasPrefix(m, "tmpfs") {
		t.Errorf("/scratch: got mount %q, want a tmpfs", m)
	}
	if _, ok := self.Mounts["/data"]; !ok {
		t.Errorf("/data: not a mount (the named volume); mounts %v", self.Mounts)
	}

	stdout.Reset()
	stderr.Reset()
	if code := cli.Main([]string{"envctl", "down", name}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("envctl down: exit %d\n%s", code, stderr.String())
	}
	if left := leftovers(t, name); left != "" {
		t.Errorf("after down, environment %s still has: %s", name, left)
	}
	if vols, err := exec.Command("docker", "volume", "ls", "-q", "--filter", "name="+name+"-").Output(); err != nil || len(bytes.TrimSpace(vols)) > 0 {
		t.Errorf("after down, volumes of %s are left: %s (%v)", name, vols, err)
	}
}

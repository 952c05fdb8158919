package compose_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/envctl/envctl/cli"
	"github.com/envctl/envctl/compose"
	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/internal/testimage"
)

// update rewrites the golden .hcl files: go test ./compose -update; review the diff.
var update = flag.Bool("update", false, "rewrite testdata/*.hcl from the conversion")

// composeFiles returns the real-world-shaped compose files under testdata.
func composeFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("got %d compose files in testdata, want at least 10", len(files))
	}
	return files
}

func convertFile(t *testing.T, path, outDir string) *compose.Result {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := compose.Convert(path, src, compose.Options{OutDir: outDir})
	if err != nil {
		t.Fatalf("Convert(%s): %v", path, err)
	}
	return res
}

// varFlags gives every variable a value that lets the file run: images are the test image,
// other variables without a default get "x".
func varFlags(res *compose.Result, img string) []string {
	var out []string
	required := map[string]bool{}
	for _, r := range res.Required {
		required[r] = true
	}
	for _, v := range res.Variables {
		switch {
		case strings.HasSuffix(v, "IMAGE"):
			out = append(out, v+"="+img)
		case required[v]:
			out = append(out, v+"=x")
		}
	}
	return out
}

// TestGolden converts each compose file, compares the result with its golden .hcl, and loads
// the golden file with envs.Load: it must have no errors and every compose service.
func TestGolden(t *testing.T) {
	for _, yml := range composeFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(yml), ".yml"), func(t *testing.T) {
			res := convertFile(t, yml, "testdata")
			golden := strings.TrimSuffix(yml, ".yml") + ".hcl"
			if *update {
				if err := os.WriteFile(golden, res.HCL, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./compose -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(res.HCL)); diff != "" {
				t.Errorf("%s differs from the conversion (-want +got):\n%s", golden, diff)
			}
			var vars []string
			for _, v := range varFlags(res, "example/image:1") {
				vars = append(vars, v)
			}
			env, _, diags := envs.Load(envs.Options{Paths: []string{golden}, Vars: vars, Profiles: profilesOf(res.HCL)})
			if diags.HasErrors() {
				t.Fatalf("envs.Load(%s): %s", golden, diags.Error())
			}
			if got, want := len(env.Services), countServices(t, yml); got != want {
				t.Errorf("envs.Load(%s): got %d services, want %d (one per compose service)", golden, got, want)
			}
		})
	}
}

// countServices counts the compose file's services the cheap way: the keys two spaces in
// under "services:".
func countServices(t *testing.T, yml string) int {
	t.Helper()
	src, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	n, in := 0, false
	for _, l := range strings.Split(string(src), "\n") {
		switch {
		case l == "services:":
			in = true
		case in && len(l) > 2 && l[0] != ' ' && l[0] != '#':
			in = false
		case in && strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") && strings.HasSuffix(l, ":"):
			n++
		}
	}
	return n
}

// TestBringUp imports each compose file, writes the environment file to a temporary
// directory and brings it up and down with envctl itself on the local Docker Engine.
func TestBringUp(t *testing.T) {
	img := testimage.NeedTestsvc(t)
	// build_contexts.yml's string-form build has no args, so its Dockerfile starts FROM this
	// fixed tag of the test image. Cleanups run after the parallel subtests have ended.
	if out, err := exec.Command("docker", "tag", img, baseTag).CombinedOutput(); err != nil {
		t.Fatalf("docker tag: %v\n%s", err, out)
	}
	t.Cleanup(removeImages)
	for _, yml := range composeFiles(t) {
		t.Run(strings.TrimSuffix(filepath.Base(yml), ".yml"), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			res := convertFile(t, yml, dir)
			if err := os.WriteFile(filepath.Join(dir, "envctl.hcl"), res.HCL, 0o644); err != nil {
				t.Fatal(err)
			}
			name := envName(t)
			t.Cleanup(func() { removeEnv(t, name) })

			args := []string{"envctl", "up", "-f", dir, "--name", name, "-o", "json", "--timeout", "3m"}
			for _, v := range varFlags(res, img) {
				args = append(args, "--var", v)
			}
			for _, p := range profilesOf(res.HCL) {
				args = append(args, "--profile", p)
			}
			var stdout, stderr bytes.Buffer
			if code := cli.Main(args, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("envctl up: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			var doc struct {
				OK       bool `json:"ok"`
				Services []struct {
					Name  string `json:"name"`
					State string `json:"state"`
				} `json:"services"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
				t.Fatalf("envctl up -o json: %v\n%s", err, stdout.String())
			}
			if !doc.OK {
				t.Errorf("envctl up: ok is false\n%s", stdout.String())
			}
			if got, want := len(doc.Services), countServices(t, yml); got != want {
				t.Errorf("envctl up: got %d services, want %d", got, want)
			}
			for _, s := range doc.Services {
				if s.State != "ready" {
					t.Errorf("service %s: got state %q, want ready", s.Name, s.State)
				}
			}

			stdout.Reset()
			stderr.Reset()
			if code := cli.Main([]string{"envctl", "down", name}, nil, &stdout, &stderr); code != 0 {
				t.Fatalf("envctl down: exit %d, want 0\n%s", code, stderr.String())
			}
			if left := leftovers(t, name); left != "" {
				t.Errorf("after down, environment %s still has: %s", name, left)
			}
		})
	}
}

// envName is a fresh environment name with the prefix the suite's leak checks know.
func envName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "ts-imp" + hex.EncodeToString(b)
}

// leftovers lists the containers and networks still labelled with the environment.
func leftovers(t *testing.T, name string) string {
	t.Helper()
	filter := "label=io.envctl.env=" + name
	var left []string
	for _, args := range [][]string{
		{"ps", "-aq", "--filter", filter},
		{"network", "ls", "-q", "--filter", filter},
	} {
		out, err := exec.Command("docker", args...).Output()
		if err != nil {
			t.Errorf("docker %s: %v", strings.Join(args, " "), err)
			continue
		}
		left = append(left, strings.Fields(string(out))...)
	}
	return strings.Join(left, " ")
}

// removeEnv removes whatever the test left of the environment, also when it failed half-way.
func removeEnv(t *testing.T, name string) {
	var stdout, stderr bytes.Buffer
	cli.Main([]string{"envctl", "down", name}, nil, &stdout, &stderr)
	filter := "label=io.envctl.env=" + name
	if ids, _ := exec.Command("docker", "ps", "-aq", "--filter", filter).Output(); len(bytes.TrimSpace(ids)) > 0 {
		_ = exec.Command("docker", append([]string{"rm", "-f"}, strings.Fields(string(ids))...)...).Run()
	}
	if ids, _ := exec.Command("docker", "network", "ls", "-q", "--filter", filter).Output(); len(bytes.TrimSpace(ids)) > 0 {
		_ = exec.Command("docker", append([]string{"network", "rm"}, strings.Fields(string(ids))...)...).Run()
	}
}

// baseTag is the test image's tag for build_contexts.yml; removed again by removeImages.
const baseTag = "envctl-test/compose-import-base:latest"

// removeImages removes the images the build_contexts file built (their Dockerfiles label
// them) and the base tag.
func removeImages() {
	if ids, _ := exec.Command("docker", "image", "ls", "-q", "--filter", "label=io.envctl.test=compose-import").Output(); len(bytes.TrimSpace(ids)) > 0 {
		_ = exec.Command("docker", append([]string{"image", "rm", "-f"}, strings.Fields(string(ids))...)...).Run()
	}
	_ = exec.Command("docker", "image", "rm", baseTag).Run()
}

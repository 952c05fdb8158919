package docker

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"

	"github.com/envctl/envctl/provisioner"
)

// writeFiles creates files (path => content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// removeImageLater removes the image ref when the test ends.
func removeImageLater(t *testing.T, ref string) {
	t.Helper()
	hk := housekeeping(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		hk.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
	})
}

func TestPrepareImageBuild(t *testing.T) {
	b := testBackend(t)
	base := testsvcImage(t)
	ctx := context.Background()
	hk := housekeeping(t)

	tests := []struct {
		name    string
		files   map[string]string
		build   provisioner.Build
		wantErr string // "" for success
		label   string // with success: the value of the image label "msg"
	}{
		{
			name: "args-and-custom-dockerfile",
			files: map[string]string{
				"docker/Build.df": "FROM " + base + "\nARG MSG=unset\nLABEL msg=$MSG\nCOPY data/hello.txt /hello.txt\n",
				"data/hello.txt":  "hello\n",
			},
			build: provisioner.Build{Dockerfile: "docker/Build.df", Args: map[string]string{"MSG": "from-args"}},
			label: "from-args",
		},
		{
			// A multi-stage Dockerfile of FROM-scratch-based stages: the target picks the
			// stage, not the last one.
			name: "multi-stage-target",
			files: map[string]string{
				"Dockerfile": "FROM " + base + " AS base\nLABEL msg=base\nFROM base AS debug\nLABEL msg=debug-stage\nFROM base AS final\nLABEL msg=final-stage\n",
			},
			build: provisioner.Build{Target: "debug", CacheFrom: []string{base}},
			label: "debug-stage",
		},
		{
			name: "dockerignore-keeps-the-rest",
			files: map[string]string{
				"Dockerfile":    "FROM " + base + "\nCOPY keep.txt /keep.txt\nLABEL msg=kept\n",
				"keep.txt":      "k",
				"secret/a.txt":  "s",
				".dockerignore": "# comment\nsecret\n*.log\n",
			},
			label: "kept",
		},
		{
			name: "dockerignore-excludes",
			files: map[string]string{
				"Dockerfile":    "FROM " + base + "\nCOPY secret/a.txt /a.txt\n",
				"secret/a.txt":  "s",
				".dockerignore": "secret\n",
			},
			wantErr: "secret/a.txt",
		},
		{
			name: "failing-step",
			files: map[string]string{
				"Dockerfile": "FROM " + base + "\nCOPY missing.txt /missing.txt\n",
			},
			wantErr: "missing.txt",
		},
		{
			name:    "bad-instruction",
			files:   map[string]string{"Dockerfile": "FROM " + base + "\nFROBNICATE now\n"},
			wantErr: "frobnicate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			ref := "envctl-test/" + testEnvPrefix + randomSuffix(t) + ":built"
			removeImageLater(t, ref)
			bs := tt.build
			bs.Context = dir
			var progress bytes.Buffer
			id, err := b.PrepareImage(ctx, provisioner.Spec{Service: "api", Image: ref, Build: &bs}, &progress)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("PrepareImage: nil error, want one mentioning %q", tt.wantErr)
				}
				msg := err.Error()
				if !strings.Contains(msg, "build api") || !strings.Contains(strings.ToLower(msg), strings.ToLower(tt.wantErr)) {
					t.Errorf("PrepareImage error %q, want it to name the service and mention %q", msg, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("PrepareImage: %v\nbuild output:\n%s", err, progress.String())
			}
			img, err := hk.ImageInspect(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if id != img.ID {
				t.Errorf("PrepareImage returned %q, want the image's ID %q", id, img.ID)
			}
			if got := img.Config.Labels["msg"]; got != tt.label {
				t.Errorf("label msg = %q, want %q", got, tt.label)
			}
			if !strings.Contains(progress.String(), "Step 1/") {
				t.Errorf("progress %q, want the builder's steps", progress.String())
			}
		})
	}
}

func TestPrepareImageLocalAndMissing(t *testing.T) {
	b := testBackend(t)
	base := testsvcImage(t)
	ctx := context.Background()

	img, err := housekeeping(t).ImageInspect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	id, err := b.PrepareImage(ctx, provisioner.Spec{Service: "svc", Image: base}, nil)
	if err != nil || id != img.ID {
		t.Errorf("PrepareImage(local %s) = %q, %v, want %q", base, id, err, img.ID)
	}

	// No registry answers on this machine (and none serves these names anywhere), so a pull
	// must fail with the image named and the engine's reason.
	for _, ref := range []string{
		"localhost:1/" + testEnvPrefix + "missing:" + randomSuffix(t),
		"envctl-test/" + testEnvPrefix + "missing-" + randomSuffix(t) + ":nope",
	} {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		_, err := b.PrepareImage(pctx, provisioner.Spec{Service: "svc", Image: ref}, nil)
		cancel()
		want := `pull image "` + ref + `": `
		if err == nil || !strings.HasPrefix(err.Error(), want) || len(err.Error()) <= len(want) {
			t.Errorf("PrepareImage(%s): %v, want an error starting %q with the engine's reason", ref, err, want)
		}
	}
}

func TestDockerignore(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{".dockerignore": `
# build output
bin
*.log
**/*.tmp
docs/**
!docs/keep.md
/abs/
x?z
`})
	list, err := readDockerignore(filepath.Join(dir, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want bool
	}{
		{"bin", true},
		{"bin/app", true},
		{"binary", false},
		{"a.log", true},
		{"sub/a.log", false}, // * does not cross a directory
		{"a.tmp", true},
		{"deep/er/a.tmp", true},
		{"docs/x.md", true},
		{"docs/keep.md", false}, // the later exception wins
		{"abs/f", true},
		{"xyz", true},
		{"xz", false},
		{"main.go", false},
	}
	for _, tt := range tests {
		if got := list.excluded(tt.path); got != tt.want {
			t.Errorf("excluded(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	if !list.hasExceptions() {
		t.Error("hasExceptions() = false, want true")
	}
	if none, err := readDockerignore(filepath.Join(dir, "absent")); err != nil || none.excluded("anything") {
		t.Errorf("no .dockerignore: %v, excludes %v; want nil, false", err, none.excluded("anything"))
	}
}

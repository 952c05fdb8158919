package realimage

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/envctl/envctl/internal/testimage"
)

func TestAptMirror(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"deb822 behind a commented snapshot", map[string]string{
			"sources.list.d/debian.sources": "Types: deb\n# http://snapshot.debian.org/archive/debian/20250520T000000Z\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\n",
		}, "http://deb.debian.org/debian"},
		{"one-line form with options", map[string]string{
			"sources.list": "# deb http://old.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main\n",
		}, "http://mirror.example/debian"},
		{"security only", map[string]string{
			"sources.list": "deb http://deb.debian.org/debian-security bookworm-security main\n",
		}, ""},
		{"disabled files are not read", map[string]string{
			"sources.list.d/x.list.disabled": "deb http://elsewhere.example/debian bookworm main\n",
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			etc := t.TempDir()
			for p, body := range c.files {
				full := filepath.Join(etc, p)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := AptMirror(etc); got != c.want {
				t.Errorf("AptMirror = %q, want %q", got, c.want)
			}
		})
	}
}

func TestOwnContextHasEveryOwnDockerfile(t *testing.T) {
	d, cleanup, err := ownContext()
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	for n, s := range Servers {
		if s.Shared {
			continue
		}
		if !isFile(filepath.Join(d, "Dockerfile."+n)) {
			t.Errorf("no Dockerfile.%s in the build context", n)
		}
	}
	fi, err := os.Stat(filepath.Join(d, "mariadb-entrypoint.sh"))
	if err != nil || fi.Mode()&0o100 == 0 {
		t.Errorf("mariadb-entrypoint.sh is missing or not executable: %v", err)
	}
}

// TestMemcachedImage builds the cheapest own image (on the shared Debian base) and runs its
// server's binary: the build path works end to end.
func TestMemcachedImage(t *testing.T) {
	testimage.Need(t)
	img := Need(t, "memcached")["memcached"]
	out, err := exec.Command("docker", "run", "--rm", img, "memcached", "-V").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "memcached 1.") {
		t.Fatalf("docker run %s memcached -V: %v: %s", img, err, out)
	}
}

func TestUnknownServer(t *testing.T) {
	_, err := Ensure(t.Context(), os.Stderr, "oracle")
	if err == nil || !strings.Contains(err.Error(), `unknown server "oracle"`) {
		t.Fatalf("err = %v", err)
	}
}

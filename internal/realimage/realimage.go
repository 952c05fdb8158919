package realimage

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/testimage"
)

// Base is the image every server image is built FROM.
const Base = "envctl-real/debian:12"

// Server is one real-server image.
type Server struct {
	Image  string // the tag the tests run
	Shared bool   // its Dockerfile is in shared/images (else in this package)
}

// Servers are the images this package can build, by name.
var Servers = map[string]Server{
	"postgres":  {Image: "envctl-real/postgres:15", Shared: true},
	"redis":     {Image: "envctl-real/redis:7", Shared: true},
	"rabbitmq":  {Image: "envctl-real/rabbitmq:3", Shared: true},
	"nginx":     {Image: "envctl-real/nginx:1", Shared: true},
	"mariadb":   {Image: "envctl-real/mariadb:10"},
	"memcached": {Image: "envctl-real/memcached:1"},
}

//go:embed dockerfiles
var ownFiles embed.FS

// ErrNoShared is returned when an image needs shared/images and there is none beside the
// checkout.
var ErrNoShared = errors.New("no shared/images beside the checkout (the real-server Dockerfiles); put the project's shared folder beside the checkout, or set ENVCTL_SHARED_IMAGES to its images folder")

// SharedDir returns the shared/images folder: ENVCTL_SHARED_IMAGES, or shared/images beside
// the working directory's module root or any folder above it; "" when there is none.
func SharedDir() string {
	if d := os.Getenv("ENVCTL_SHARED_IMAGES"); d != "" {
		return d
	}
	d, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if c := filepath.Join(d, "shared", "images"); isFile(filepath.Join(c, "Dockerfile.postgres")) {
			return c
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// Need returns the images of the named servers, building what is missing. It skips the test
// when shared/images is needed and absent (saying how to run it), and fails it when a build
// fails.
func Need(t testing.TB, names ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	imgs, err := Ensure(ctx, testLog{t}, names...)
	if errors.Is(err, ErrNoShared) {
		testimage.SkipOrFail(t, "%v", err)
	}
	if err != nil {
		t.Fatalf("real-server images: %v", err)
	}
	return imgs
}

type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("realimage: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Ensure builds the named servers' images that the engine lacks, one process at a time, and
// returns name => image. Progress goes to log.
func Ensure(ctx context.Context, log io.Writer, names ...string) (map[string]string, error) {
	out := map[string]string{}
	shared := ""
	for _, n := range names {
		s, ok := Servers[n]
		if !ok {
			return nil, fmt.Errorf("unknown server %q (known: %s)", n, strings.Join(Names(), ", "))
		}
		if s.Shared && shared == "" {
			if shared = SharedDir(); shared == "" {
				return nil, ErrNoShared
			}
		}
		out[n] = s.Image
	}
	missing := false
	for _, img := range out {
		if !haveImage(ctx, img) {
			missing = true
		}
	}
	if !missing {
		return out, nil
	}
	unlock, err := lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if !haveImage(ctx, Base) {
		if err := buildBase(ctx, log); err != nil {
			return nil, err
		}
	}
	for _, n := range sortedKeys(out) {
		s := Servers[n]
		if haveImage(ctx, s.Image) {
			continue // built by another process while this one waited for the lock
		}
		dir := shared
		if !s.Shared {
			d, cleanup, err := ownContext()
			if err != nil {
				return nil, err
			}
			defer cleanup()
			dir = d
		}
		fmt.Fprintf(log, "building %s (apt-get install in a Dockerfile; a minute or more)\n", s.Image)
		start := time.Now()
		cmd := exec.CommandContext(ctx, "docker", "build", "-q", "-t", s.Image, "-f", filepath.Join(dir, "Dockerfile."+n), dir)
		cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("docker build %s: %w: %s", s.Image, err, tail(b))
		}
		fmt.Fprintf(log, "built %s in %s\n", s.Image, time.Since(start).Round(time.Second))
	}
	return out, nil
}

// Names lists the servers this package knows.
func Names() []string { return sortedKeys(Servers) }

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ownContext writes this package's Dockerfiles to a temporary build context.
func ownContext() (string, func(), error) {
	d, err := os.MkdirTemp("", "envctl-realimage-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(d) }
	err = fs.WalkDir(ownFiles, "dockerfiles", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := ownFiles.ReadFile(p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		return os.WriteFile(filepath.Join(d, filepath.Base(p)), b, mode)
	})
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return d, cleanup, nil
}

// buildBase makes envctl-real/debian:12 with debootstrap (installed with apt-get if missing).
func buildBase(ctx context.Context, log io.Writer) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("building %s needs root (debootstrap); run the tests as root or build it once with: sudo go run ./internal/realimage/cmd/build-real-images", Base)
	}
	mirror := os.Getenv("ENVCTL_DEBIAN_MIRROR")
	if mirror == "" {
		mirror = AptMirror("/etc/apt")
	}
	if mirror == "" {
		return errors.New("no Debian mirror found in /etc/apt's sources; set ENVCTL_DEBIAN_MIRROR")
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		fmt.Fprintln(log, "installing debootstrap with apt-get")
		for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "debootstrap"}} {
			if b, err := exec.CommandContext(ctx, "apt-get", args...).CombinedOutput(); err != nil {
				return fmt.Errorf("apt-get %s: %w: %s", args[0], err, tail(b))
			}
		}
	}
	root, err := os.MkdirTemp("", "envctl-debootstrap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	fmt.Fprintf(log, "debootstrap bookworm from %s (a few minutes)\n", mirror)
	start := time.Now()
	if b, err := exec.CommandContext(ctx, "debootstrap", "--variant=minbase", "bookworm", root, mirror).CombinedOutput(); err != nil {
		return fmt.Errorf("debootstrap from %s: %w: %s", mirror, err, tail(b))
	}
	_ = os.RemoveAll(filepath.Join(root, "var/cache/apt/archives"))
	_ = os.MkdirAll(filepath.Join(root, "var/cache/apt/archives/partial"), 0o755)
	tar := exec.CommandContext(ctx, "tar", "-C", root, "-c", ".")
	imp := exec.CommandContext(ctx, "docker", "import", "-c", `CMD ["/bin/bash"]`, "-", Base)
	pipe, err := tar.StdoutPipe()
	if err != nil {
		return err
	}
	imp.Stdin = pipe
	var impOut bytes.Buffer
	imp.Stdout, imp.Stderr = &impOut, &impOut
	if err := tar.Start(); err != nil {
		return err
	}
	ierr := imp.Run()
	terr := tar.Wait()
	if ierr != nil || terr != nil {
		return fmt.Errorf("docker import %s: %v %v: %s", Base, ierr, terr, tail(impOut.Bytes()))
	}
	fmt.Fprintf(log, "built %s in %s\n", Base, time.Since(start).Round(time.Second))
	return nil
}

// AptMirror returns the Debian archive URL apt uses, read from the sources under etc
// (sources.list and sources.list.d: one-line "deb URL SUITE" and deb822 "URIs:" forms).
// Comments are skipped: a commented snapshot URL is not a mirror apt uses.
func AptMirror(etc string) string {
	files := []string{filepath.Join(etc, "sources.list")}
	more, _ := filepath.Glob(filepath.Join(etc, "sources.list.d", "*"))
	files = append(files, more...)
	for _, f := range files {
		if !strings.HasSuffix(f, ".list") && !strings.HasSuffix(f, ".sources") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || line[0] == '#' {
				continue
			}
			var urls []string
			switch fields := strings.Fields(line); {
			case fields[0] == "URIs:":
				urls = fields[1:]
			case fields[0] == "deb":
				for _, f := range fields[1:] {
					if !strings.HasPrefix(f, "[") && !strings.HasSuffix(f, "]") {
						urls = append(urls, f)
						break
					}
				}
			}
			for _, u := range urls {
				u = strings.TrimRight(u, "/")
				if (strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) && strings.HasSuffix(u, "/debian") {
					return u
				}
			}
		}
	}
	return ""
}

func haveImage(ctx context.Context, img string) bool {
	return exec.CommandContext(ctx, "docker", "image", "inspect", "--format", "{{.Id}}", img).Run() == nil
}

// lock serialises builds across processes: two test packages that need the same image
// would otherwise both debootstrap.
func lock(ctx context.Context) (func(), error) {
	dir := filepath.Join(os.TempDir(), "envctl-locks")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "realimage.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for another process's real-image build: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

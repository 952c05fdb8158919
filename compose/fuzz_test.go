package compose

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FuzzConvert feeds the importer arbitrary compose files, with an overlay and an extends
// file beside them: it must never panic or run long, and whatever it returns must be HCL that
// parses. The seeds are the corpus and the golden compose files, so `make test` runs them.
func FuzzConvert(f *testing.F) {
	for _, pat := range []string{"testdata/*.yml", "testdata/corpus/*/*.yml", "testdata/corpus/*/*.yaml"} {
		files, _ := filepath.Glob(pat)
		for _, p := range files {
			if src, err := os.ReadFile(p); err == nil {
				f.Add(src, []byte("services: {}\n"))
			}
		}
	}
	f.Add([]byte("services:\n  a:\n    extends: {file: other.yml, service: b}\n"), []byte("services:\n  b:\n    extends: {file: other.yml, service: b}\n"))
	f.Add([]byte("include: [other.yml]\nservices:\n  a: {image: x}\n"), []byte("include: [other.yml]\nservices:\n  b: {image: x}\n"))
	f.Fuzz(func(t *testing.T, src, other []byte) {
		if len(src) > 64<<10 || len(other) > 64<<10 {
			return
		}
		read := func(p string) ([]byte, error) {
			switch filepath.Base(p) {
			case "other.yml":
				return other, nil
			case ".env":
				return []byte("TAG=1\nDB_PASSWORD=x\n"), nil
			}
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
		// A hang must be a crash the fuzzer records, not a stalled worker.
		var res *Result
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			res, err = ConvertFiles([]File{{Name: "/p/compose.yml", Src: src}, {Name: "/p/other.yml", Src: other}}, Options{OutDir: "/p", ReadFile: read})
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			panic("ConvertFiles ran for 20 s")
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "/p/") && !strings.HasPrefix(err.Error(), "compose.yml") && !strings.HasPrefix(err.Error(), "other.yml") {
				t.Fatalf("error names no file: %v", err)
			}
			return
		}
		if _, diags := hclsyntax.ParseConfig(res.HCL, "envctl.hcl", hcl.InitialPos); diags.HasErrors() {
			t.Fatalf("the import does not parse: %s\n%s", diags.Error(), res.HCL)
		}
	})
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWithoutReady(t *testing.T) {
	src := `service "db" {
  image = "pg"
  ports = { pg = 5432 }
  ready {
    postgres {
      port = "pg"
    }
    timeout = "1m"
  }
}
service "job" {
  image = "x"
  ready {
    exec = ["check"]
  }
}
service "web" {
  image = "x"
}
`
	out, kinds, err := withoutReady([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "postgres") || strings.Contains(string(out), "exec") || !strings.Contains(string(out), `tcp     = "pg"`) ||
		!strings.Contains(string(out), `timeout = "1m"`) || !strings.Contains(string(out), `service "web"`) {
		t.Errorf("without ready blocks:\n%s", out)
	}
	if kinds != "db: postgres; job: exec" {
		t.Errorf("kinds %q", kinds)
	}
}

func TestSpliceSection(t *testing.T) {
	doc := "# r\n\n## A\n\na\n\n## Real servers imported from Compose (issue 18)\n\nold\n\n## Profile\n\np\n"
	got := string(spliceSection([]byte(doc), realstackHeading, realstackHeading+"\n\nnew\n\n"))
	if want := "# r\n\n## A\n\na\n\n## Real servers imported from Compose (issue 18)\n\nnew\n\n## Profile\n\np\n"; got != want {
		t.Errorf("replace: got %q, want %q", got, want)
	}
	got = string(spliceSection([]byte("# r\n\n## A\n\na\n\n## Profile\n\np\n"), realstackHeading, realstackHeading+"\n\nnew\n\n"))
	if want := "# r\n\n## A\n\na\n\n" + realstackHeading + "\n\nnew\n\n## Profile\n\np\n"; got != want {
		t.Errorf("insert: got %q, want %q", got, want)
	}
	got = string(spliceSection([]byte("# r\n"), realstackHeading, "S\n"))
	if got != "# r\n\nS\n" {
		t.Errorf("append: got %q", got)
	}
}

// TestWriteSection: -only's sections replace their own, else go before the named section,
// else where spliceSection puts them (before the profile).
func TestWriteSection(t *testing.T) {
	for _, tc := range []struct{ name, doc, before, want string }{
		{"replaces", "# r\n\n## S\n\nold\n\n## Mesos: x\n\nm\n", "## Mesos: ", "# r\n\n## S\n\nnew\n\n## Mesos: x\n\nm\n"},
		{"before the named section", "# r\n\n## Mesos: x\n\nm\n\n## Profile\n\np\n", "## Mesos: ", "# r\n\n## S\n\nnew\n\n## Mesos: x\n\nm\n\n## Profile\n\np\n"},
		{"before the profile", "# r\n\n## Mesos: x\n\nm\n\n## Profile\n\np\n", "", "# r\n\n## Mesos: x\n\nm\n\n## S\n\nnew\n\n## Profile\n\np\n"},
	} {
		out := filepath.Join(t.TempDir(), "results.md")
		if err := os.WriteFile(out, []byte(tc.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := writeSection(out, "## S", "## S\n\nnew\n\n", tc.before); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(out); string(got) != tc.want {
			t.Errorf("%s: got\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

package dotenv

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	src := "# comment\n\nA=1\nexport B = two words  # note\nC='lit $X #x'\nD=\"a\\nb \\\"q\\\"\"\nE=\"multi\nline\"\nF=\nG=x#y\r\nA=again\n"
	pairs, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := Map(pairs)
	want := map[string]string{"A": "again", "B": "two words", "C": "lit $X #x", "D": "a\nb \"q\"", "E": "multi\nline", "F": "", "G": "x#y"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
}

func TestErrors(t *testing.T) {
	for src, want := range map[string]string{
		"A=1\nNOVALUE\n":  `line 2: "NOVALUE" has no "="; write KEY=VALUE`,
		"1A=x":            `line 1: "1A" is not a variable name (letters, digits and "_", not starting with a digit)`,
		"A='open":         "line 1: the single quote is not closed on this line",
		"A=1\nB=\"open\n": "line 2: the double quote is never closed",
	} {
		_, err := Parse([]byte(src))
		if err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %s", src, err, want)
		}
	}
}

package main

import (
	"bytes"
	"testing"
)

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknown flag", []string{"-bogus"}},
		{"no agents", []string{"-agents", "0"}},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if got := run(tt.args, &out, &errb); got != 2 {
			t.Errorf("%s: got exit %d, want 2 (stderr %q)", tt.name, got, errb.String())
		}
	}
}

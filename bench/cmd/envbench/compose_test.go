package main

import "testing"

func TestParseComposeVersion(t *testing.T) {
	tests := []struct {
		out       string
		want      string
		wantMajor int
		wantOK    bool
	}{
		{"Docker Compose version v2.40.3\n", "v2.40.3", 2, true},
		{"Docker Compose version 2.20.2+ds1-0ubuntu1~22.04.1", "v2.20.2+ds1-0ubuntu1~22.04.1", 2, true},
		{"docker-compose version 1.29.2, build unknown\ndocker-py version: 5.0.3\n", "v1.29.2", 1, true},
		{"docker: unknown command: docker compose", "", 0, false},
		{"", "", 0, false},
	}
	for _, tt := range tests {
		got, major, ok := parseComposeVersion(tt.out)
		if got != tt.want || major != tt.wantMajor || ok != tt.wantOK {
			t.Errorf("parseComposeVersion(%q) = %q, %d, %v; want %q, %d, %v", tt.out, got, major, ok, tt.want, tt.wantMajor, tt.wantOK)
		}
	}
}

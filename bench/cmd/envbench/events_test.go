package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseEventLog(t *testing.T) {
	start := time.Date(2026, 5, 1, 13, 35, 0, 0, time.UTC)
	stderr := "13:35:00.612 s2      waiting   for s1\n" +
		"Environment \"x\" is ready in 1.5s (2 services).\n" +
		"13:35:01.008 s1      probing   started\n" +
		"\n" +
		"13:35:01.008 s1      probing   attempt 1: port http: connect: connection refused\n"
	want := []logEvent{
		{At: start.Add(612 * time.Millisecond), Service: "s2", Phase: "waiting", Detail: "for s1"},
		{At: start.Add(1008 * time.Millisecond), Service: "s1", Phase: "probing", Detail: "started"},
		{At: start.Add(1008 * time.Millisecond), Service: "s1", Phase: "probing", Detail: "attempt 1: port http: connect: connection refused"},
	}
	if diff := cmp.Diff(want, parseEventLog(stderr, start)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}

	// A run that crosses midnight: the line after it belongs to the next day.
	late := time.Date(2026, 5, 1, 23, 59, 59, 0, time.UTC)
	got := parseEventLog("00:00:00.250 s1 ready in 1s\n", late)
	if len(got) != 1 || !got[0].At.Equal(late.Add(1250*time.Millisecond)) {
		t.Errorf("across midnight got %v, want one event at %v", got, late.Add(1250*time.Millisecond))
	}
}

func TestParseEngineEvents(t *testing.T) {
	out := `{"status":"create","id":"abc","Type":"container","Action":"create","Actor":{"ID":"abc","Attributes":{"io.envctl.env":"ts-bench-30","io.envctl.service":"l1-s01","name":"ts-bench-30-l1-s01"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}
not json
{"Type":"network","Action":"connect","Actor":{"ID":"net1","Attributes":{"container":"abc","name":"envctl-ts-bench-30","type":"bridge"}},"timeNano":1700000000200000000}
{"Type":"container","Action":"exec_start: /testsvc probe tcp 127.0.0.1:80","Actor":{"ID":"abc","Attributes":{}},"timeNano":1700000000300000000}
`
	got := parseEngineEvents(out)
	want := []engineEvent{
		{At: time.Unix(0, 1700000000123456789), Type: "container", Action: "create", ID: "abc",
			Attrs:   map[string]string{"io.envctl.env": "ts-bench-30", "io.envctl.service": "l1-s01", "name": "ts-bench-30-l1-s01"},
			Service: "l1-s01", Env: "ts-bench-30"},
		{At: time.Unix(0, 1700000000200000000), Type: "network", Action: "connect", ID: "net1",
			Attrs: map[string]string{"container": "abc", "name": "envctl-ts-bench-30", "type": "bridge"}},
		{At: time.Unix(0, 1700000000300000000), Type: "container", Action: "exec_start", ID: "abc", Attrs: map[string]string{}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

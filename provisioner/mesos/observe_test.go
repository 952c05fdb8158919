package mesos

import "testing"

// TestAgentAPI: an agent's API is at the address of its PID, not at its advertised hostname
// (the shared real cluster's agents advertise 172.17.0.1 and listen on 127.0.0.1).
func TestAgentAPI(t *testing.T) {
	for _, c := range []struct {
		pid, host string
		port      int32
		want      string
	}{
		{"slave(1)@127.0.0.1:5051", "172.17.0.1", 5051, "127.0.0.1:5051"},
		{"slave(1)@10.0.0.7:5052", "agent-7.example", 0, "10.0.0.7:5052"},
		{"slave(1)@[::1]:5051", "h", 5051, "[::1]:5051"},
		{"", "172.17.0.1", 5053, "172.17.0.1:5053"},
		{"", "h", 0, "h:5051"},
		{"garbage", "h", 5051, "h:5051"},
	} {
		if got := agentAPI(c.pid, c.host, c.port); got != c.want {
			t.Errorf("agentAPI(%q, %q, %d) = %q, want %q", c.pid, c.host, c.port, got, c.want)
		}
	}
}

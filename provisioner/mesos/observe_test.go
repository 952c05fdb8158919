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

// TestExecutorLines: the real Docker executor's own glog lines are told from a service's output
// (seen on Mesos 1.12: they buried "sick but alive" under health-check reports).
func TestExecutorLines(t *testing.T) {
	for line, want := range map[string]bool{
		"I1129 03:38:32.331364  9277 checker_process.cpp:1154] HTTP health check for task 'x' returned: 503": true,
		"W1129 03:38:32.331470  9277 health_checker.cpp:283] HTTP health check for task 'x' failed":          true,
		"I1129 03:36:55.411090 19362 exec.cpp:164] Version: 1.12.0":                                          true,
		"E1129 03:36:55.411090 19362 src/docker/executor.cpp:754] Container exited with status 1":            true,
		"I1129 03:36:55.411090   19362 main.go:12] a service's own klog line":                                false,
		"sick but alive": false,
		"docker: Error response from daemon: driver failed programming external connectivity": false,
	} {
		if got := executorLine.MatchString(line); got != want {
			t.Errorf("executorLine(%q) = %v, want %v", line, got, want)
		}
	}
}

package cli

import "testing"

func TestCheckRegistry(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"127.0.0.1:5000", true},
		{"registry.example.com:443", true},
		{"[::1]:5000", true},
		{"http://127.0.0.1:5000", false},
		{"127.0.0.1:5000/envctl", false},
		{"127.0.0.1", false},
		{":5000", false},
		{"host:0", false},
		{"host:99999", false},
		{"host:http", false},
	} {
		if err := checkRegistry(tc.in); (err == nil) != tc.ok {
			t.Errorf("checkRegistry(%q) = %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

// TestAgentsShareEngine: the single-host test cluster's agents advertise an address of this
// machine (the Docker bridge's gateway), a team's agents another host's.
func TestAgentsShareEngine(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	if !agentsShareEngine([]string{"127.0.0.1"}) {
		t.Error("127.0.0.1 is not taken for this machine")
	}
	if agentsShareEngine([]string{"127.0.0.1", "192.0.2.250"}) {
		t.Error("192.0.2.250 (TEST-NET, no address of this machine) is taken for this machine")
	}
	t.Setenv("DOCKER_HOST", "tcp://192.0.2.250:2375")
	if agentsShareEngine([]string{"127.0.0.1"}) {
		t.Error("agents on this machine share a remote DOCKER_HOST engine")
	}
}

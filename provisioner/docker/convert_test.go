package docker

import (
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	"github.com/google/go-cmp/cmp"

	"github.com/envctl/envctl/provisioner"
)

func TestState(t *testing.T) {
	tests := []struct {
		in   container.ContainerState
		want provisioner.State
	}{
		{container.StateCreated, provisioner.StateCreated},
		{container.StateRunning, provisioner.StateRunning},
		{container.StateRestarting, provisioner.StateRunning},
		{container.StatePaused, provisioner.StateRunning},
		{container.StateExited, provisioner.StateExited},
		{container.StateDead, provisioner.StateExited},
		{container.StateRemoving, provisioner.StateExited},
		{"weird", provisioner.StateUnknown},
	}
	for _, tt := range tests {
		if got := state(tt.in); got != tt.want {
			t.Errorf("state(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		status string
		want   int
	}{
		{"Exited (0) 3 seconds ago", 0},
		{"Exited (137) About a minute ago", 137},
		{"Exited (-1) 2 hours ago", -1},
		{"Up 5 minutes", 0},
		{"Restarting (1) 2 seconds ago", 0},
		{"Created", 0},
		{"", 0},
	}
	for _, tt := range tests {
		if got := exitCode(tt.status); got != tt.want {
			t.Errorf("exitCode(%q) = %d, want %d", tt.status, got, tt.want)
		}
	}
}

func TestSummaryConversion(t *testing.T) {
	labels := map[string]string{
		provisioner.LabelEnv:     "shop",
		provisioner.LabelService: "api",
		provisioner.LabelPorts:   "admin=9090,http=8080,metrics=7070",
	}
	c := container.Summary{
		ID:      "abc",
		Names:   []string{"/web/api-link", "/shop-api"},
		Labels:  labels,
		State:   container.StateRunning,
		Status:  "Up 2 seconds",
		Created: 1700000000,
		Ports: []container.Port{
			{IP: "::", PrivatePort: 9090, PublicPort: 49160, Type: "tcp"},
			{IP: "0.0.0.0", PrivatePort: 9090, PublicPort: 49159, Type: "tcp"},
			{IP: "127.0.0.1", PrivatePort: 8080, PublicPort: 49153, Type: "tcp"},
			{IP: "127.0.0.1", PrivatePort: 7070, PublicPort: 49154, Type: "udp"},
			{PrivatePort: 5000, Type: "tcp"}, // exposed by the image, not published
		},
		NetworkSettings: &container.NetworkSettingsSummary{Networks: map[string]*network.EndpointSettings{
			"bridge":        {IPAddress: "172.17.0.9"},
			"envctl-shop":   {IPAddress: "172.20.0.3"},
			"envctl-shop-x": {IPAddress: "172.21.0.3"},
		}},
	}
	got := summaryView(c).instance()
	want := provisioner.Instance{
		ID:        "abc",
		Name:      "shop-api",
		Env:       "shop",
		Service:   "api",
		Labels:    labels,
		State:     provisioner.StateRunning,
		Host:      "api",
		Ports:     map[string]int{"admin": 9090, "http": 8080, "metrics": 7070},
		Published: map[string]string{"admin": "127.0.0.1:49159", "http": "127.0.0.1:49153"},
		ProbeAddrs: map[string]string{
			"admin": "172.20.0.3:9090", "http": "172.20.0.3:8080", "metrics": "172.20.0.3:7070",
		},
		Created: got.Created,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("instance (-want +got):\n%s", diff)
	}
	if got.Created.Unix() != 1700000000 {
		t.Errorf("Created = %v, want unix 1700000000", got.Created)
	}

	// An exited container has no address to probe, and its exit code comes from the status.
	c.State, c.Status = container.StateExited, "Exited (3) 1 second ago"
	got = summaryView(c).instance()
	if got.State != provisioner.StateExited || got.ExitCode != 3 || got.ProbeAddrs != nil {
		t.Errorf("exited: state %v exit %d probe %v, want exited 3 none", got.State, got.ExitCode, got.ProbeAddrs)
	}
}

func TestPublishedPrefersIPv4AndIPv6Fallback(t *testing.T) {
	tests := []struct {
		name string
		bs   []binding
		want string
	}{
		{"v6-only", []binding{{containerPort: 80, proto: "tcp", hostIP: "::1", hostPort: 5}}, "[::1]:5"},
		{"v6-then-v4", []binding{{80, "tcp", "::1", 5}, {80, "tcp", "127.0.0.1", 6}}, "127.0.0.1:6"},
		{"unspecified", []binding{{80, "tcp", "0.0.0.0", 7}}, "127.0.0.1:7"},
		{"other-address", []binding{{80, "tcp", "192.168.1.5", 8}}, "192.168.1.5:8"},
		{"unpublished", []binding{{80, "tcp", "", 0}}, ""},
	}
	for _, tt := range tests {
		got, _ := published(tt.bs, 80)
		if got != tt.want {
			t.Errorf("%s: published = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestContainerConfig(t *testing.T) {
	spec := provisioner.Spec{
		Env: "shop", Service: "api", Image: "shop/api:1",
		Command:     []string{"serve", "--port", "8080"},
		Environment: map[string]string{"B": "2", "A": "1", "C": "x=y"},
		Ports:       []provisioner.Port{{Name: "http", Port: 8080}},
		CPUs:        1.5,
		Memory:      256 << 20,
	}
	cfg, host, netCfg := containerConfig(spec, map[string]string{"k": "v"}, "net123")
	if diff := cmp.Diff([]string{"A=1", "B=2", "C=x=y"}, cfg.Env); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"serve", "--port", "8080"}, []string(cfg.Cmd)); diff != "" {
		t.Errorf("Cmd (-want +got):\n%s", diff)
	}
	if cfg.Entrypoint != nil {
		t.Errorf("Entrypoint = %q, want nil (the image's own)", cfg.Entrypoint)
	}
	if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v, want 8080/tcp", cfg.ExposedPorts)
	}
	if diff := cmp.Diff(nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1", HostPort: ""}}}, host.PortBindings); diff != "" {
		t.Errorf("PortBindings (-want +got):\n%s", diff)
	}
	if host.NanoCPUs != 1_500_000_000 || host.Memory != 256<<20 {
		t.Errorf("resources NanoCPUs=%d Memory=%d", host.NanoCPUs, host.Memory)
	}
	if string(host.NetworkMode) != "net123" || netCfg.EndpointsConfig["net123"] == nil ||
		!cmp.Equal(netCfg.EndpointsConfig["net123"].Aliases, []string{"api"}) {
		t.Errorf("network: mode %q endpoints %v, want net123 with alias api", host.NetworkMode, netCfg.EndpointsConfig)
	}
	if host.RestartPolicy.Name != "" {
		t.Errorf("RestartPolicy = %q, want none", host.RestartPolicy.Name)
	}

	spec.PublishIP = "0.0.0.0"
	spec.Command = nil
	spec.Entrypoint = []string{"/bin/api"}
	cfg, host, _ = containerConfig(spec, nil, "n")
	if got := host.PortBindings["8080/tcp"][0].HostIP; got != "0.0.0.0" {
		t.Errorf("PublishIP 0.0.0.0: HostIP %q", got)
	}
	if cfg.Cmd != nil || !cmp.Equal([]string(cfg.Entrypoint), []string{"/bin/api"}) {
		t.Errorf("Cmd %q Entrypoint %q, want nil, [/bin/api]", cfg.Cmd, cfg.Entrypoint)
	}
}

func TestContainerLabels(t *testing.T) {
	spec := provisioner.Spec{Env: "shop", Service: "api", Ports: []provisioner.Port{{Name: "http", Port: 80}},
		Labels: map[string]string{"team": "x"}}
	got, err := containerLabels(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"team": "x", provisioner.LabelEnv: "shop", provisioner.LabelService: "api", provisioner.LabelPorts: "http=80"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if _, ok := spec.Labels[provisioner.LabelEnv]; ok {
		t.Error("containerLabels modified spec.Labels")
	}
	spec.Labels[provisioner.LabelService] = "web"
	if _, err := containerLabels(spec); err == nil {
		t.Error("a LabelService naming another service: nil error, want one")
	}
}

package mesos

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/envctl/envctl/provisioner"
)

func TestTakePorts(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []portRange
		n    int
		want []uint64
		left []portRange
	}{
		// The highest range first: a multi-host agent offers its Docker host ports above the
		// low ports its Mesos-containerizer tasks listen on; the lowest of it, away from the
		// engine's own random ports (32768 on) at the top of a single-host agent's range.
		{"lowest of the highest range", []portRange{{1, 5050}, {20000, 20099}}, 2, []uint64{20000, 20001}, []portRange{{1, 5050}, {20002, 20099}}},
		{"one range", []portRange{{32000, 32999}}, 1, []uint64{32000}, []portRange{{32001, 32999}}},
		{"spills into the range below", []portRange{{10, 10}, {20, 21}}, 3, []uint64{20, 21, 10}, nil},
		{"not enough", []portRange{{31000, 31000}}, 2, []uint64{31000}, nil},
		{"none", nil, 1, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, left := takePorts(tc.in, tc.n)
			if !reflect.DeepEqual(got, tc.want) || (len(left) > 0 || len(tc.left) > 0) && !reflect.DeepEqual(left, tc.left) {
				t.Errorf("takePorts(%v, %d) = %v, %v; want %v, %v", tc.in, tc.n, got, left, tc.want, tc.left)
			}
		})
	}
}

func TestTakeExact(t *testing.T) {
	rs := []portRange{{1, 5050}, {5052, 9999}, {20000, 20099}}
	got, left, ok := takeExact(rs, []uint64{8080, 7000})
	if !ok || !reflect.DeepEqual(got, []uint64{8080, 7000}) {
		t.Fatalf("takeExact 8080, 7000 = %v, %v", got, ok)
	}
	want := []portRange{{1, 5050}, {5052, 6999}, {7001, 8079}, {8081, 9999}, {20000, 20099}}
	if !reflect.DeepEqual(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	// A port already taken, or one the agent does not offer, fits nowhere; rs stays as it was.
	for _, p := range []uint64{8080, 5051, 10000} {
		if _, l, ok := takeExact(left, []uint64{7001, p}); ok || !reflect.DeepEqual(l, left) {
			t.Errorf("takeExact(%d) on %v: ok=%v left=%v, want refused and unchanged", p, left, ok, l)
		}
	}
	// Edges of a range.
	if _, l, ok := takeExact([]portRange{{80, 81}}, []uint64{80, 81}); !ok || len(l) != 0 {
		t.Errorf("both ends of [80-81]: ok=%v left=%v", ok, l)
	}
}

// TestPortsByContainerizer: the Docker containerizer maps any offered host ports to the
// container's; the Mesos containerizer's task listens on its container ports in the agent's
// network, so those exact ports must be offered, and two services with the same container port
// cannot share an agent.
func TestPortsByContainerizer(t *testing.T) {
	spec := provisioner.Spec{Service: "web", Ports: []provisioner.Port{{Name: "http", Port: 8000}}}
	offer := []portRange{{31000, 31999}}
	dockerB := &Backend{opt: Options{Containerizer: ContainerizerDocker}}
	mesosB := &Backend{opt: Options{Containerizer: ContainerizerMesos}}
	if !dockerB.portsFit(offer, spec) {
		t.Error("docker: 1 port of 1000 offered does not fit")
	}
	if mesosB.portsFit(offer, spec) {
		t.Error("mesos: port 8000 fits an agent that offers only 31000-31999")
	}
	low := []portRange{{1, 9999}}
	got, left := mesosB.choosePorts(low, spec)
	if !reflect.DeepEqual(got, []uint64{8000}) {
		t.Fatalf("mesos: chose %v, want the container port 8000", got)
	}
	if mesosB.portsFit(left, spec) {
		t.Error("mesos: a second service on port 8000 fits the same agent")
	}
	twice := []*taskState{{spec: &spec}, {spec: &spec}}
	if mesosB.portsFitAll(low, twice, 2) {
		t.Error("mesos: two services on port 8000 fit one agent together")
	}
	if !dockerB.portsFitAll(offer, twice, 2) {
		t.Error("docker: two services with one port each do not fit 1000 ports")
	}
}

func TestMesosContainerTaskInfo(t *testing.T) {
	b := &Backend{opt: Options{Containerizer: ContainerizerMesos, HealthInterval: defaultHealthInterval}}
	spec := provisioner.Spec{Env: "shop", Service: "migrate", Image: "127.0.0.1:14050/envctl/migrate:4edea2aea161",
		Command: []string{"--store", "10.0.0.2:7000"}, Environment: map[string]string{"B": "2", "A": "1"},
		Ports: []provisioner.Port{{Name: "http", Port: 8080}}}
	info := b.taskInfo("t1", "a1", "", spec, request{cpus: 0.1, mem: 32}, []uint64{8080}, true)
	c := info.GetContainer()
	if c.GetType() != mesospb.ContainerInfo_MESOS || c.Docker != nil {
		t.Fatalf("container type %v (docker %v), want MESOS without DockerInfo", c.GetType(), c.Docker)
	}
	img := c.GetMesos().GetImage()
	if img.GetType() != mesospb.Image_DOCKER || img.GetDocker().GetName() != spec.Image {
		t.Errorf("image %v, want the docker image %s", img, spec.Image)
	}
	if len(c.GetNetworkInfos()) != 0 {
		t.Errorf("network infos %v: want none (the agent's own network)", c.GetNetworkInfos())
	}
	cmd := info.GetCommand()
	if cmd.GetShell() || cmd.Value != nil || !reflect.DeepEqual(cmd.GetArguments(), spec.Command) {
		t.Errorf("command shell=%v value=%v args=%v: want the image's entrypoint with %v", cmd.GetShell(), cmd.Value, cmd.GetArguments(), spec.Command)
	}
	if vs := cmd.GetEnvironment().GetVariables(); len(vs) != 2 || vs[0].Name != "A" {
		t.Errorf("environment %v, want A and B in order", vs)
	}
	var ports []string
	for _, r := range info.GetResources() {
		if r.Name == "ports" {
			for _, rg := range r.GetRanges().GetRange() {
				ports = append(ports, strconv.FormatUint(rg.Begin, 10)+"-"+strconv.FormatUint(rg.End, 10))
			}
		}
	}
	if !reflect.DeepEqual(ports, []string{"8080-8080"}) {
		t.Errorf("ports resource %v, want the container port 8080", ports)
	}
	if got := labelMap(info.Labels)[LabelHostPorts]; got != "http=8080" {
		t.Errorf("%s = %q, want http=8080", LabelHostPorts, got)
	}

	// An entrypoint of the file's own is the command's value, its whole argv first.
	spec.Entrypoint = []string{"/bin/app", "-v"}
	info = b.taskInfo("t2", "a1", "", spec, request{cpus: 0.1, mem: 32}, []uint64{8080}, true)
	cmd = info.GetCommand()
	if cmd.GetValue() != "/bin/app" || !reflect.DeepEqual(cmd.GetArguments(), []string{"/bin/app", "-v", "--store", "10.0.0.2:7000"}) {
		t.Errorf("with an entrypoint: value %q args %v", cmd.GetValue(), cmd.GetArguments())
	}
}

func TestSpecCheckerMesosContainerizer(t *testing.T) {
	base := provisioner.Spec{Service: "api", Image: "x"}
	check := SpecChecker(ContainerizerMesos)
	if err := check(base); err != nil {
		t.Fatalf("a plain service: %v", err)
	}
	for _, tc := range []struct {
		attr string
		set  func(*provisioner.Spec)
	}{
		{"hostname", func(s *provisioner.Spec) { s.Hostname = "h" }},
		{"user", func(s *provisioner.Spec) { s.User = "1000" }},
		{"working_dir", func(s *provisioner.Spec) { s.WorkingDir = "/w" }},
		{"read_only", func(s *provisioner.Spec) { s.ReadOnly = true }},
		{"cap_add/cap_drop", func(s *provisioner.Spec) { s.CapAdd = []string{"NET_ADMIN"} }},
		{"mount (tmpfs) /tmp", func(s *provisioner.Spec) {
			s.Mounts = []provisioner.Mount{{Type: provisioner.MountTmpfs, Target: "/tmp"}}
		}},
	} {
		s := base
		tc.set(&s)
		err := check(s)
		if err == nil || !strings.Contains(err.Error(), `service "api": `+tc.attr+" cannot be carried") || !strings.Contains(err.Error(), "--mesos-containerizer docker") {
			t.Errorf("%s: %v, want a refusal naming the service, the attribute and the fix", tc.attr, err)
		}
		if err := SpecChecker(ContainerizerDocker)(s); err != nil {
			t.Errorf("%s with the Docker containerizer: %v", tc.attr, err)
		}
	}
}

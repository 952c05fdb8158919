package docker

import (
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/envctl/envctl/provisioner"
)

// networkName is the name of env's network. The design fixes it; containers reach each other on
// it by their service names.
func networkName(env string) string { return "envctl-" + env }

// containerName is the name of env's container for service.
func containerName(env, service string) string { return env + "-" + service }

// binding is one published port of a container, as either a list or an inspect reports it.
type binding struct {
	containerPort int
	proto         string
	hostIP        string
	hostPort      int
}

// view is what the conversion to provisioner.Instance needs from a container. It exists
// because the engine describes a container in two shapes (container.Summary from a list,
// container.InspectResponse from an inspect) and both must convert identically.
type view struct {
	id       string
	name     string
	labels   map[string]string
	state    container.ContainerState
	exitCode int
	created  time.Time
	started  time.Time
	imageID  string // the image's ID ("sha256:..."), which the planner compares with the wanted one
	ip       string // the container's address on its environment's network; "" when not running
	bindings []binding
}

// instance converts v.
func (v view) instance() provisioner.Instance {
	inst := provisioner.Instance{
		ID:       v.id,
		Name:     v.name,
		Env:      v.labels[provisioner.LabelEnv],
		Service:  v.labels[provisioner.LabelService],
		Labels:   v.labels,
		State:    state(v.state),
		ExitCode: v.exitCode,
		Host:     v.labels[provisioner.LabelService],
		Created:  v.created,
		Started:  v.started,
		ImageID:  v.imageID,
	}
	ports := provisioner.ParsePorts(v.labels[provisioner.LabelPorts])
	if len(ports) == 0 {
		return inst
	}
	inst.Ports = make(map[string]int, len(ports))
	for _, p := range ports {
		inst.Ports[p.Name] = p.Port
		if v.ip != "" {
			if inst.ProbeAddrs == nil {
				inst.ProbeAddrs = map[string]string{}
			}
			inst.ProbeAddrs[p.Name] = net.JoinHostPort(v.ip, strconv.Itoa(p.Port))
		}
		if addr, ok := published(v.bindings, p.Port); ok {
			if inst.Published == nil {
				inst.Published = map[string]string{}
			}
			inst.Published[p.Name] = addr
		}
	}
	return inst
}

// published returns the host address a program on this machine dials for the TCP container
// port. A port published on every address (0.0.0.0, ::) is dialled on 127.0.0.1; IPv4 is
// preferred over IPv6 because the engine publishes both when asked for all addresses.
func published(bs []binding, port int) (string, bool) {
	best, found := "", false
	for _, b := range bs {
		if b.containerPort != port || b.hostPort == 0 || (b.proto != "" && b.proto != "tcp") {
			continue
		}
		ip := net.ParseIP(b.hostIP)
		host := b.hostIP
		if host == "" || ip == nil || ip.IsUnspecified() {
			host = "127.0.0.1"
		}
		addr := net.JoinHostPort(host, strconv.Itoa(b.hostPort))
		if ip == nil || ip.To4() != nil {
			return addr, true
		}
		if !found {
			best, found = addr, true
		}
	}
	return best, found
}

// state maps the engine's container states onto the provisioner's. Paused and restarting
// containers still exist as processes, so they count as running; dead and removing ones will
// never run again.
func state(s container.ContainerState) provisioner.State {
	switch s {
	case container.StateCreated:
		return provisioner.StateCreated
	case container.StateRunning, container.StateRestarting, container.StatePaused:
		return provisioner.StateRunning
	case container.StateExited, container.StateDead, container.StateRemoving:
		return provisioner.StateExited
	}
	return provisioner.StateUnknown
}

// exitCodeRE finds the exit code in a list's Status, "Exited (137) 5 seconds ago". The list call
// carries no exit code field; parsing the daemon's status text (stable since Docker 1.x) spares
// an inspect per container on every up, down and status.
var exitCodeRE = regexp.MustCompile(`^Exited \((-?\d+)\)`)

// exitCode reads the exit code out of a list's Status; 0 when there is none.
func exitCode(status string) int {
	m := exitCodeRE.FindStringSubmatch(status)
	if m == nil {
		return 0
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return 0
	}
	return n
}

// summaryView converts one entry of a container list.
func summaryView(c container.Summary) view {
	v := view{
		id:       c.ID,
		name:     summaryName(c.Names),
		labels:   c.Labels,
		state:    c.State,
		exitCode: exitCode(c.Status),
		created:  time.Unix(c.Created, 0),
		imageID:  c.ImageID,
	}
	env := c.Labels[provisioner.LabelEnv]
	if c.NetworkSettings != nil && c.State == container.StateRunning {
		if ep := c.NetworkSettings.Networks[networkName(env)]; ep != nil {
			v.ip = ep.IPAddress
		}
	}
	for _, p := range c.Ports {
		v.bindings = append(v.bindings, binding{
			containerPort: int(p.PrivatePort),
			proto:         p.Type,
			hostIP:        p.IP,
			hostPort:      int(p.PublicPort),
		})
	}
	return v
}

// summaryName picks the container's own name out of a list's Names, which also holds the names
// it has through legacy links ("/other/alias").
func summaryName(names []string) string {
	for _, n := range names {
		n = strings.TrimPrefix(n, "/")
		if !strings.Contains(n, "/") {
			return n
		}
	}
	return ""
}

// inspectView converts a container inspect.
func inspectView(c container.InspectResponse) view {
	v := view{id: c.ID, name: strings.TrimPrefix(c.Name, "/")}
	if c.Config != nil {
		v.labels = c.Config.Labels
	}
	if c.ContainerJSONBase != nil {
		v.created = parseTime(c.Created)
		v.imageID = c.Image
		if c.State != nil {
			v.state = c.State.Status
			v.exitCode = c.State.ExitCode
			v.started = parseTime(c.State.StartedAt)
		}
	}
	if c.NetworkSettings == nil {
		return v
	}
	if v.state == container.StateRunning {
		if ep := c.NetworkSettings.Networks[networkName(v.labels[provisioner.LabelEnv])]; ep != nil {
			v.ip = ep.IPAddress
		}
	}
	for port, bs := range c.NetworkSettings.Ports {
		for _, b := range bs {
			hp, err := strconv.Atoi(b.HostPort)
			if err != nil {
				continue
			}
			v.bindings = append(v.bindings, binding{
				containerPort: port.Int(),
				proto:         port.Proto(),
				hostIP:        b.HostIP,
				hostPort:      hp,
			})
		}
	}
	// Map iteration is random; keep the IPv4-first choice in published deterministic.
	sort.Slice(v.bindings, func(i, j int) bool {
		a, b := v.bindings[i], v.bindings[j]
		if a.containerPort != b.containerPort {
			return a.containerPort < b.containerPort
		}
		return a.hostIP < b.hostIP
	})
	return v
}

// parseTime reads the engine's RFC 3339 times; the engine's "0001-01-01T00:00:00Z" for "never"
// becomes the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

package provisioner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/envctl/envctl/envs"
)

// Target is a loaded environment file made ready to plan and apply: the images each service
// runs and the environment-wide labels.
type Target struct {
	Env *envs.Environment
	// Images maps a service to the image reference it runs: its image, or the tag its build
	// produces.
	Images map[string]string
	// ImageIDs maps a service to the ID of its image when known (after PrepareImage). The
	// planner compares it with the running instance's, so a rebuilt or re-pulled image
	// recreates the service; it stays out of the hash so that plan, which builds nothing,
	// computes the same hash as up.
	ImageIDs map[string]string
	Expires  time.Time // zero: never
	Owner    string    // "host:pid", for people reading labels

	// mu guards hashes and templates: Spec is called from parallel walkers, and a template
	// (an evaluation of the service's expressions) and its hash are worth computing once:
	// plan needs both for every service.
	mu        sync.Mutex
	hashes    map[string]string
	templates map[string]*envs.Runtime
}

// Template is s.Template(), evaluated once per Target. Callers must not change it.
func (t *Target) Template(s *envs.Service) *envs.Runtime {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.templateLocked(s)
}

func (t *Target) templateLocked(s *envs.Service) *envs.Runtime {
	if tpl, ok := t.templates[s.Name]; ok {
		return tpl
	}
	tpl := s.Template()
	if t.templates == nil {
		t.templates = map[string]*envs.Runtime{}
	}
	t.templates[s.Name] = tpl
	return tpl
}

// NewTarget prepares env for planning. A built image is tagged with the service's image when
// it names one, else envctl/<service>:<digest of the build's place>: the same build directory
// gives the same tag whatever the environment is called, so parallel environments of one file
// share one image instead of piling up a tag each.
func NewTarget(env *envs.Environment, ttl time.Duration, now time.Time) *Target {
	t := &Target{Env: env, Images: map[string]string{}, ImageIDs: map[string]string{}}
	for _, s := range env.Services {
		img := s.Image
		if img == "" && s.Build != nil {
			key := s.Build.Context + "\x00" + s.Build.Dockerfile
			if s.Build.Target != "" {
				// Two stages of one Dockerfile are two images.
				key += "\x00" + s.Build.Target
			}
			sum := sha256.Sum256([]byte(key))
			img = "envctl/" + s.Name + ":" + hex.EncodeToString(sum[:6])
		}
		t.Images[s.Name] = img
	}
	if ttl > 0 {
		t.Expires = now.Add(ttl).UTC().Truncate(time.Second)
	}
	host, _ := os.Hostname()
	t.Owner = fmt.Sprintf("%s:%d", host, os.Getpid())
	return t
}

// ReadySpecOf converts the file's ready block into the backend-neutral ReadySpec.
func ReadySpecOf(r envs.Ready) ReadySpec {
	rs := ReadySpec{Timeout: r.Timeout, Interval: r.Interval, AttemptTimeout: r.AttemptTimeout}
	switch r.Kind {
	case envs.ProbeHTTP:
		rs.Kind, rs.Port, rs.Path, rs.Status = ProbeHTTP, r.Port, r.Path, r.Status
	case envs.ProbeTCP:
		rs.Kind, rs.Port = ProbeTCP, r.Port
	case envs.ProbeExec:
		rs.Kind, rs.Exec = ProbeExec, r.Exec
	case envs.ProbeLog:
		rs.Kind, rs.Log = ProbeLog, r.Log
	}
	if r.Kind.IsProtocol() {
		rs.Kind, rs.Port = r.Kind.String(), r.Port
		rs.User, rs.Database, rs.GRPCService = r.User, r.Database, r.GRPCService
		if r.Password != "" {
			rs.Password, rs.PasswordEnv = Secret(r.Password), ReadyPasswordEnv
		}
	}
	return rs
}

// hashInput is what a config hash covers: everything that, changed, must recreate the
// instance. Dependencies are left out (Compose does the same): a changed dependency recreates
// its dependents through the planner, not through their hash.
type hashInput struct {
	Image      string
	Command    []string
	Entrypoint []string
	Env        map[string]string
	Ports      []envs.Port
	PublishIP  string
	Run        envs.RunMode
	CPUs       float64
	Memory     int64
	Labels     map[string]string
	Ready      ReadySpec
	// Added with issue 11. omitempty keeps the hash of a service that uses none of them what
	// it was, so upgrading envctl does not recreate every running environment.
	User       string            `json:",omitempty"`
	WorkingDir string            `json:",omitempty"`
	Hostname   string            `json:",omitempty"`
	Aliases    []string          `json:",omitempty"`
	Init       bool              `json:",omitempty"`
	ReadOnly   bool              `json:",omitempty"`
	ShmSize    int64             `json:",omitempty"`
	CapAdd     []string          `json:",omitempty"`
	CapDrop    []string          `json:",omitempty"`
	ExtraHosts map[string]string `json:",omitempty"`
	Ulimits    []envs.Ulimit     `json:",omitempty"`
	StopSignal string            `json:",omitempty"`
	StopGrace  time.Duration     `json:",omitempty"`
	// Mounts carry the digest of a bind mount's content: a changed file recreates.
	Mounts []envs.Mount `json:",omitempty"`
	// Secrets enter as a digest of name, target, mode and content.
	Secrets     string `json:",omitempty"`
	BuildTarget string `json:",omitempty"`
	// ReadyPassword is the redis probe's password (ReadySpec marshals without it): a changed
	// password recreates the instance, which carries it in ReadyPasswordEnv.
	ReadyPassword string `json:",omitempty"`
}

// Hash is the config hash of one service: a sha256 over its image reference and its settings, with service addresses as their source text, so the hash is known before the
// dependencies run. Sensitive values enter the hash, which does not reveal them.
func (t *Target) Hash(s *envs.Service) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h, ok := t.hashes[s.Name]; ok {
		return h
	}
	tpl := t.templateLocked(s)
	in := hashInput{
		Image: t.Images[s.Name], Command: tpl.Command, Entrypoint: tpl.Entrypoint, Env: tpl.Env,
		Ports: s.Ports, PublishIP: s.PublishIP, Run: s.Run,
		CPUs: s.Resources.CPUs, Memory: s.Resources.Memory, Labels: s.Labels,
		Ready: ReadySpecOf(s.Ready),
		User:  s.User, WorkingDir: s.WorkingDir, Hostname: s.Hostname, Aliases: s.Aliases,
		Init: s.Init, ReadOnly: s.ReadOnly, ShmSize: s.ShmSize, CapAdd: s.CapAdd, CapDrop: s.CapDrop,
		ExtraHosts: s.ExtraHosts, Ulimits: s.Ulimits, StopSignal: s.StopSignal, StopGrace: s.StopGrace,
		Mounts: s.Mounts,
	}
	if s.Build != nil {
		in.BuildTarget = s.Build.Target
	}
	in.ReadyPassword = s.Ready.Password
	if len(s.Secrets) > 0 {
		sh := sha256.New()
		for _, sec := range s.Secrets {
			fmt.Fprintf(sh, "%s\x00%s\x00%o\x00%d\x00%s\x00", sec.Name, sec.Target, sec.Mode, len(sec.Value), sec.Value)
		}
		in.Secrets = hex.EncodeToString(sh.Sum(nil))
	}
	b, err := json.Marshal(in) // maps marshal with sorted keys: the hash is stable
	if err != nil {
		panic("provisioner: hash input does not marshal: " + err.Error()) // plain data; cannot happen
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	if t.hashes == nil {
		t.hashes = map[string]string{}
	}
	t.hashes[s.Name] = h
	return h
}

// Desired lists the services in dependency order (dependencies first, declaration order
// breaking ties), as MakePlan wants them.
func (t *Target) Desired() ([]Desired, error) {
	order, err := t.Env.Graph().Sort()
	if err != nil {
		return nil, err
	}
	out := make([]Desired, 0, len(order))
	for _, name := range order {
		s := t.Env.Service(name)
		d := Desired{Service: name, Hash: t.Hash(s), ImageID: t.ImageIDs[name], Once: s.Run == envs.RunOnce}
		for _, dep := range s.Deps {
			d.Deps = append(d.Deps, dep.Name)
		}
		out = append(out, d)
	}
	return out, nil
}

// Spec builds the backend's Spec for one service, resolving its run-time values with the
// endpoints of its dependencies.
func (t *Target) Spec(s *envs.Service, deps map[string]envs.Endpoint) (Spec, error) {
	rt, diags := s.Resolve(deps)
	if diags.HasErrors() {
		return Spec{}, fmt.Errorf("service %q: %s", s.Name, diags.Error())
	}
	spec := t.StaticSpec(s)
	spec.Command, spec.Entrypoint, spec.Environment = rt.Command, rt.Entrypoint, rt.Env
	if pw := s.Ready.Password; pw != "" {
		env := make(map[string]string, len(rt.Env)+1)
		for k, v := range rt.Env {
			env[k] = v
		}
		env[ReadyPasswordEnv] = pw
		spec.Environment = env
	}
	return spec, nil
}

// StaticSpec is Spec without the run-time values (command, entrypoint, env), which need the
// dependencies' addresses: enough for a backend to check at load what it cannot carry.
func (t *Target) StaticSpec(s *envs.Service) Spec {
	spec := Spec{
		Env: t.Env.Name, Service: s.Name, Image: t.Images[s.Name],
		PublishIP: s.PublishIP, Once: s.Run == envs.RunOnce,
		CPUs: s.Resources.CPUs, Memory: s.Resources.Memory,
		Ready: ReadySpecOf(s.Ready),
	}
	if s.Build != nil {
		spec.Build = &Build{Context: s.Build.Context, Dockerfile: s.Build.Dockerfile, Args: s.Build.Args,
			Target: s.Build.Target, CacheFrom: s.Build.CacheFrom}
	}
	spec.User, spec.WorkingDir, spec.Hostname = s.User, s.WorkingDir, s.Hostname
	spec.Aliases = s.Aliases
	spec.Init, spec.ReadOnly, spec.ShmSize = s.Init, s.ReadOnly, s.ShmSize
	spec.CapAdd, spec.CapDrop, spec.ExtraHosts = s.CapAdd, s.CapDrop, s.ExtraHosts
	for _, u := range s.Ulimits {
		spec.Ulimits = append(spec.Ulimits, Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	spec.StopSignal, spec.StopGrace = s.StopSignal, s.StopGrace
	for _, m := range s.Mounts {
		spec.Mounts = append(spec.Mounts, Mount{Type: string(m.Type), Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly, Size: m.Size})
	}
	for _, sec := range s.Secrets {
		spec.Files = append(spec.Files, File{Name: sec.Name, Target: sec.Target, Mode: sec.Mode, Data: []byte(sec.Value)})
	}
	for _, p := range s.Ports {
		spec.Ports = append(spec.Ports, Port{Name: p.Name, Port: p.Port})
	}
	sort.Slice(spec.Ports, func(i, j int) bool { return spec.Ports[i].Name < spec.Ports[j].Name })
	spec.Labels = t.Labels(s)
	return spec
}

// Labels is the complete label set of one service's instance: the user's, then envctl's own,
// which win.
func (t *Target) Labels(s *envs.Service) map[string]string {
	l := map[string]string{}
	for k, v := range s.Labels {
		l[k] = v
	}
	for k, v := range EnvLabels(t.Env.Name, t.Expires, t.Owner) {
		l[k] = v
	}
	deps := make([]string, 0, len(s.Deps))
	for _, d := range s.Deps {
		deps = append(deps, d.Name)
	}
	l[LabelService] = s.Name
	l[LabelHash] = t.Hash(s)
	l[LabelDeps] = strings.Join(deps, ",")
	l[LabelRun] = "service"
	if s.Run == envs.RunOnce {
		l[LabelRun] = "once"
	}
	ports := make([]Port, 0, len(s.Ports))
	for _, p := range s.Ports {
		ports = append(ports, Port{Name: p.Name, Port: p.Port})
	}
	l[LabelPorts] = FormatPorts(ports)
	l[LabelReady] = FormatReady(ReadySpecOf(s.Ready))
	keys := t.Template(s).SensitiveEnv
	if s.Ready.Password != "" {
		keys = append(append([]string(nil), keys...), ReadyPasswordEnv)
	}
	if len(keys) > 0 {
		l[LabelSensitive] = strings.Join(keys, ",")
	}
	return l
}

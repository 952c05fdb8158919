package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/envs"
	"github.com/envctl/envctl/provisioner"
)

func planCommand() *urfave.Command {
	return &urfave.Command{
		Name:      "plan",
		Usage:     "show what up would do, wave by wave, without changing anything",
		ArgsUsage: " ",
		Flags: append(fileFlags(), outputFlag(),
			&urfave.BoolFlag{Name: "offline", Usage: "do not ask the backend what exists; plan a fresh environment"},
		),
		Action: func(c *urfave.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			env, err := loadEnv(c)
			if err != nil {
				return err
			}
			target := provisioner.NewTarget(env, 0, time.Now())
			desired, err := target.Desired()
			if err != nil {
				return err
			}
			var observed []provisioner.Instance
			note := ""
			if !c.Bool("offline") {
				observed, note = observeForPlan(c.Context, c, env.Name)
			}
			// As up: services of inactive profiles are not orphans.
			leftOut := leftOutSet(env)
			observed = slices.DeleteFunc(observed, func(i provisioner.Instance) bool { return leftOut[i.Service] })
			plan := provisioner.MakePlan(env.Name, desired, observed)
			if note != "" {
				fmt.Fprintln(c.App.ErrWriter, note)
			}
			view, err := buildPlanView(env, target, plan, global(c, "backend"))
			if err != nil {
				return err
			}
			allowPlanValues(redactorOf(c), view, env.Sensitive)
			if format == "json" {
				return writeJSON(c.App.Writer, view)
			}
			renderPlan(c.App.Writer, view)
			return nil
		},
	}
}

// observeForPlan asks the backend what exists, read-only. A backend that does not answer is not
// an error for plan: it then shows a fresh environment and says so.
func observeForPlan(ctx context.Context, c *urfave.Context, env string) ([]provisioner.Instance, string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err := openBackend(ctx, c)
	if err != nil {
		return nil, "note: " + firstLine(err.Error()) + "; planning as if nothing exists."
	}
	defer b.Close()
	insts, err := b.Observe(ctx, env)
	if err != nil {
		return nil, "note: " + firstLine(err.Error()) + "; planning as if nothing exists."
	}
	return insts, ""
}

// planView is the plan as `plan -o json` prints it and the text form renders it.
type planView struct {
	Name     string            `json:"name"`
	Backend  string            `json:"backend"`
	Waves    [][]string        `json:"waves"`
	Services []planServiceView `json:"services"`
	Changes  int               `json:"changes"`
}

type planServiceView struct {
	Name       string            `json:"name"`
	Wave       int               `json:"wave"`
	Action     string            `json:"action"`
	Cause      string            `json:"cause"`
	Run        string            `json:"run"`
	Image      string            `json:"image"`
	Build      string            `json:"build,omitempty"`
	Entrypoint []string          `json:"entrypoint,omitempty"`
	Command    []string          `json:"command,omitempty"`
	Env        map[string]string `json:"env,omitempty"`
	Ports      map[string]int    `json:"ports,omitempty"`
	DependsOn  []string          `json:"depends_on"`
	Ready      string            `json:"ready"`
	CPUs       float64           `json:"cpus,omitempty"`
	Memory     int64             `json:"memory,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Pending    []string          `json:"pending,omitempty"` // addresses known only once these dependencies are up
}

var serviceRef = regexp.MustCompile(`\$\{\s*service\.([a-z0-9-]+)\.(host|ports\.[A-Za-z0-9_-]+)\s*\}`)

// pending marks the service addresses in a template value as pending, and collects whose.
func pending(s string, whose map[string]bool) string {
	return serviceRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := serviceRef.FindStringSubmatch(m)
		whose[sub[1]] = true
		return "(pending " + sub[1] + "." + sub[2] + ")"
	})
}

func buildPlanView(env *envs.Environment, target *provisioner.Target, plan *provisioner.Plan, backend string) (*planView, error) {
	waves, err := env.Graph().Levels()
	if err != nil {
		return nil, err
	}
	waveOf := map[string]int{}
	for i, w := range waves {
		for _, n := range w {
			waveOf[n] = i + 1
		}
	}
	v := &planView{Name: env.Name, Backend: backend, Waves: waves, Changes: plan.Changes()}
	for _, st := range plan.Steps {
		if st.Action == provisioner.ActionRemove {
			v.Services = append(v.Services, planServiceView{Name: st.Service, Action: "remove", Cause: st.Cause, DependsOn: []string{}})
		}
	}
	for _, s := range env.Services {
		tpl := target.Template(s)
		whose := map[string]bool{}
		sensitiveEnv := map[string]bool{}
		for _, k := range tpl.SensitiveEnv {
			sensitiveEnv[k] = true
		}
		sv := planServiceView{
			Name: s.Name, Wave: waveOf[s.Name], Image: target.Images[s.Name], Run: "service",
			Ready: describeReady(s), CPUs: s.Resources.CPUs, Memory: s.Resources.Memory,
			Labels: s.Labels, DependsOn: []string{},
		}
		if s.Run == envs.RunOnce {
			sv.Run = "once"
		}
		if st := plan.Step(s.Name); st != nil {
			sv.Action, sv.Cause = strings.ToLower(st.Action.String()), st.Cause
		}
		if s.Build != nil {
			sv.Build = s.Build.Context
		}
		for _, d := range s.Deps {
			sv.DependsOn = append(sv.DependsOn, d.Name)
		}
		argv := func(in []string) []string {
			if in == nil {
				return nil
			}
			if tpl.SensitiveArgs {
				return []string{"(sensitive)"}
			}
			out := make([]string, len(in))
			for i, a := range in {
				out[i] = pending(a, whose)
			}
			return out
		}
		sv.Entrypoint, sv.Command = argv(tpl.Entrypoint), argv(tpl.Command)
		if len(tpl.Env) > 0 {
			sv.Env = map[string]string{}
			fromFile := map[string]bool{}
			for _, k := range tpl.FromEnvFile {
				fromFile[k] = true
			}
			for k, val := range tpl.Env {
				if sensitiveEnv[k] {
					sv.Env[k] = "(sensitive)"
					continue
				}
				if fromFile[k] {
					// An env file often holds passwords and is read, never shown.
					sv.Env[k] = "(env_file)"
					continue
				}
				sv.Env[k] = pending(val, whose)
			}
		}
		if len(s.Ports) > 0 {
			sv.Ports = map[string]int{}
			for _, p := range s.Ports {
				sv.Ports[p.Name] = p.Port
			}
		}
		for w := range whose {
			sv.Pending = append(sv.Pending, w)
		}
		sort.Strings(sv.Pending)
		v.Services = append(v.Services, sv)
	}
	return v, nil
}

// describeReady says in words when a service counts as ready.
func describeReady(s *envs.Service) string {
	r := s.Ready
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = provisioner.DefaultReadyTimeout
	}
	var what string
	switch {
	case s.Run == envs.RunOnce:
		what = "exited 0"
	case r.Kind == envs.ProbeHTTP:
		status := r.Status
		if status == 0 {
			status = 200
		}
		path := r.Path
		if path == "" {
			path = "/"
		}
		what = fmt.Sprintf("http GET %s on port %s answers %d", path, r.Port, status)
	case r.Kind == envs.ProbeTCP:
		what = "tcp port " + r.Port + " accepts connections"
	case r.Kind == envs.ProbeExec:
		what = "exec " + strconv.Quote(strings.Join(r.Exec, " ")) + " exits 0"
	case r.Kind == envs.ProbeLog:
		what = "a log line matches " + strconv.Quote(r.Log)
	case r.Kind.IsProtocol():
		what = describeProtocol(r)
	case len(s.Ports) > 0:
		what = "every port accepts connections"
	default:
		what = "running"
	}
	return what + ", within " + timeout.String()
}

// describeProtocol says what a protocol probe waits for. The redis password is never shown,
// only that one is used.
func describeProtocol(r envs.Ready) string {
	port := " on port " + r.Port
	switch r.Kind {
	case envs.ProbePostgres:
		user, db := r.User, r.Database
		if user == "" {
			user = "postgres"
		}
		if db == "" {
			db = "postgres"
		}
		return fmt.Sprintf("postgres%s asks user %s to authenticate for database %s", port, user, db)
	case envs.ProbeMySQL:
		return "mysql" + port + " greets (handshake)"
	case envs.ProbeRedis:
		if r.Password != "" {
			return "redis" + port + " answers AUTH (password from the file) and PING with PONG"
		}
		return "redis" + port + " answers PING with PONG"
	case envs.ProbeAMQP:
		return "amqp" + port + " answers the AMQP 0-9-1 header with Connection.Start"
	case envs.ProbeMemcached:
		return "memcached" + port + " answers version"
	case envs.ProbeGRPC:
		svc := "the server"
		if r.GRPCService != "" {
			svc = strconv.Quote(r.GRPCService)
		}
		return "grpc" + port + " health check of " + svc + " is SERVING"
	case envs.ProbeKafka:
		return "kafka" + port + " answers ApiVersions"
	case envs.ProbeMongoDB:
		return "mongodb" + port + " answers hello with ok"
	}
	return r.Kind.String() + port
}

var actionMark = map[string]string{"create": "+", "recreate": "~", "keep": "=", "remove": "-"}

func renderPlan(w io.Writer, v *planView) {
	fmt.Fprintf(w, "Environment %q on %s: %s, %s, %s.\n", v.Name, v.Backend,
		plural(len(v.Waves), "wave"), plural(countServices(v), "service"), plural(v.Changes, "change"))
	for _, s := range v.Services {
		if s.Action == "remove" {
			fmt.Fprintf(w, "\n- %s: remove (%s)\n", s.Name, s.Cause)
		}
	}
	// Indexed by name: looking each wave's names up in v.Services made plan quadratic
	// (10,000 services: 1.4 s of rendering alone).
	byName := make(map[string]int, len(v.Services))
	for i, s := range v.Services {
		if s.Action != "remove" {
			byName[s.Name] = i
		}
	}
	for i, wave := range v.Waves {
		fmt.Fprintf(w, "\nWave %d:\n", i+1)
		for _, name := range wave {
			if j, ok := byName[name]; ok {
				renderPlanService(w, v.Services[j])
			}
		}
	}
}

func countServices(v *planView) int {
	n := 0
	for _, s := range v.Services {
		if s.Action != "remove" {
			n++
		}
	}
	return n
}

func renderPlanService(w io.Writer, s planServiceView) {
	kind := ""
	if s.Run == "once" {
		kind = ", job"
	}
	fmt.Fprintf(w, "  %s %s (%s: %s%s)\n", actionMark[s.Action], s.Name, s.Action, s.Cause, kind)
	row := func(k, v string) { fmt.Fprintf(w, "      %-11s %s\n", k, v) }
	img := s.Image
	if s.Build != "" {
		img += " (built from " + s.Build + ")"
	}
	row("image", img)
	if len(s.DependsOn) > 0 {
		row("depends on", strings.Join(s.DependsOn, ", "))
	}
	if s.Entrypoint != nil {
		row("entrypoint", quoteList(s.Entrypoint))
	}
	if s.Command != nil {
		row("command", quoteList(s.Command))
	}
	if len(s.Ports) > 0 {
		names := make([]string, 0, len(s.Ports))
		for n := range s.Ports {
			names = append(names, n)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = n + "=" + strconv.Itoa(s.Ports[n])
		}
		row("ports", strings.Join(parts, ", "))
	}
	if len(s.Env) > 0 {
		keys := make([]string, 0, len(s.Env))
		for k := range s.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			label := ""
			if i == 0 {
				label = "env"
			}
			row(label, k+"="+s.Env[k])
		}
	}
	row("ready when", s.Ready)
	if s.CPUs > 0 || s.Memory > 0 {
		var parts []string
		if s.CPUs > 0 {
			parts = append(parts, strconv.FormatFloat(s.CPUs, 'g', -1, 64)+" cpus")
		}
		if s.Memory > 0 {
			parts = append(parts, formatBytes(s.Memory)+" memory")
		}
		row("resources", strings.Join(parts, ", "))
	}
	if len(s.Labels) > 0 {
		keys := make([]string, 0, len(s.Labels))
		for k := range s.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + s.Labels[k]
		}
		row("labels", strings.Join(parts, ", "))
	}
}

func quoteList(l []string) string {
	parts := make([]string, len(l))
	for i, a := range l {
		parts[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func formatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 && int64(f)%1024 == 0 {
		f /= 1024
		i++
	}
	return strconv.FormatFloat(f, 'f', -1, 64) + units[i]
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// allowPlanValues tells the redactor which env values of the plan are known not to be
// sensitive although they contain a secret's text (a user name that equals the password):
// the plan already shows every sensitive value as "(sensitive)", and must not hide a public
// one (issue 11: plan showed POSTGRES_USER=(sensitive)).
func allowPlanValues(r *redactor, v *planView, secrets []string) {
	for _, s := range v.Services {
		for k, val := range s.Env {
			if val == "(sensitive)" || !containsAny(val, secrets) {
				continue
			}
			q, _ := json.Marshal(val)
			r.allow(k+"="+val, strconv.Quote(k)+": "+string(q))
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

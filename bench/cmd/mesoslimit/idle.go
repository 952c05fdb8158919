package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clkTck is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux envctl runs on.
const clkTck = 100

// proc is one process's line of /proc/<pid>/stat.
type proc struct {
	pid, ppid int
	comm      string
	ticks     int64 // utime + stime + cutime + cstime: its own time and its reaped children's
}

// procs reads every process.
func procs() map[int]proc {
	out := map[int]proc{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(s[close+1:])
		// f[0] is the state (field 3); utime..cstime are fields 14-17, f[11..14].
		if len(f) < 15 {
			continue
		}
		p := proc{pid: pid, comm: s[open+1 : close]}
		p.ppid, _ = strconv.Atoi(f[1])
		for _, x := range f[11:15] {
			n, _ := strconv.ParseInt(x, 10, 64)
			p.ticks += n
		}
		out[pid] = p
	}
	return out
}

// tree is roots and all their descendants in ps.
func tree(ps map[int]proc, roots []int) map[int]bool {
	children := map[int][]int{}
	for _, p := range ps {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	in := map[int]bool{}
	stack := append([]int(nil), roots...)
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if in[pid] {
			continue
		}
		if _, ok := ps[pid]; !ok {
			continue
		}
		in[pid] = true
		stack = append(stack, children[pid]...)
	}
	return in
}

// group is a set of processes whose CPU time is summed: the trees of its roots, found anew
// at each reading (a check or a docker client forked meanwhile is in it at the end; one that
// exited and was reaped is in its parent's cutime/cstime).
type group func(ps map[int]proc) []int

// sample is the CPU ticks of each process of each group at one moment.
type sample []map[int]int64

func read(groups []group) sample {
	ps := procs()
	out := make(sample, len(groups))
	for i, g := range groups {
		out[i] = map[int]int64{}
		for pid := range tree(ps, g(ps)) {
			out[i][pid] = ps[pid].ticks
		}
	}
	return out
}

// idle measures, for each group, the CPU seconds per second its processes used over d: the
// ticks at the end minus, for the processes that existed at the start, their ticks then (a
// process that ended was reaped into its parent's cumulative times, still in the group).
func idle(ctx context.Context, groups []group, d time.Duration) ([]float64, error) {
	before := read(groups)
	start := time.Now()
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	after := read(groups)
	secs := time.Since(start).Seconds()
	out := make([]float64, len(groups))
	for i := range groups {
		// sum(end) - sum(start): a process of the start that ended in the window was reaped
		// by its parent, in the group too (an executor, a shim), whose cumulative times now
		// hold all of its time, the part before the start included.
		var delta int64
		for _, t := range after[i] {
			delta += t
		}
		for _, t := range before[i] {
			delta -= t
		}
		out[i] = float64(delta) / clkTck / secs
	}
	return out, nil
}

// byName is the processes whose command name is exactly one of names.
func byName(names ...string) group {
	return func(ps map[int]proc) []int {
		var out []int
		for _, p := range ps {
			for _, n := range names {
				if p.comm == n {
					out = append(out, p.pid)
				}
			}
		}
		return out
	}
}

// byCmdline is the processes whose command line contains s.
func byCmdline(s string) group {
	return func(ps map[int]proc) []int {
		var out []int
		self := os.Getpid()
		for pid := range ps {
			if pid == self {
				continue
			}
			b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
			if err == nil && strings.Contains(string(b), s) {
				out = append(out, pid)
			}
		}
		return out
	}
}

// pids is a fixed set of roots.
func pids(p ...int) group { return func(map[int]proc) []int { return p } }

// shims is the containerd shims (and, beneath them, the processes) of the containers that
// docker ps lists with filter: their parents are the shims.
func shims(filter ...string) group {
	return func(ps map[int]proc) []int {
		args := []string{"ps", "-q"}
		for _, f := range filter {
			args = append(args, "--filter", f)
		}
		out, err := exec.Command("docker", args...).Output()
		if err != nil {
			return nil
		}
		var roots []int
		for _, id := range strings.Fields(string(out)) {
			b, err := exec.Command("docker", "inspect", "-f", "{{.State.Pid}}", id).Output()
			if err != nil {
				continue
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			if p, ok := ps[pid]; ok {
				roots = append(roots, p.ppid)
			}
		}
		return roots
	}
}

// containersMounting is like shims, for the containers with a mount under dir (a real Mesos
// cluster's agents mount each task's sandbox from under their MESOS_DIR).
func containersMounting(dir string) group {
	return func(ps map[int]proc) []int {
		out, err := exec.Command("docker", "ps", "-q", "--filter", "name=^/mesos-").Output()
		if err != nil {
			return nil
		}
		var roots []int
		for _, id := range strings.Fields(string(out)) {
			b, err := exec.Command("docker", "inspect", "-f", "{{.State.Pid}} {{range .Mounts}}{{.Source}} {{end}}", id).Output()
			if err != nil || !strings.Contains(string(b), dir) {
				continue
			}
			pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
			if p, ok := ps[pid]; ok {
				roots = append(roots, p.ppid)
			}
		}
		return roots
	}
}

// union is every root of gs.
func union(gs ...group) group {
	return func(ps map[int]proc) []int {
		var out []int
		for _, g := range gs {
			out = append(out, g(ps)...)
		}
		return out
	}
}

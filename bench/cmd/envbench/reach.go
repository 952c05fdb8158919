package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// reachResult is issue 10's benchmark: the shop's up where envctl cannot dial the containers
// (setting 1: an unprivileged user in the docker group whose traffic to anything but loopback
// iptables rejects, so probes go through the agent) against the direct path (root on this
// host), in the same run, alternating.
type reachResult struct {
	Direct, Agent []time.Duration
	Ways          []string // the way each setting-1 up reported, to show it was the agent
	Skipped       string   // why it was not measured
}

// measureReach runs the shop's up runs times in each setting. It needs root (iptables, a
// process of another user); otherwise it says why it did not run.
func (b *bench) measureReach(ctx context.Context) *reachResult {
	res := &reachResult{}
	if os.Geteuid() != 0 {
		res.Skipped = "needs root (an iptables rule and a process of another user)"
		return res
	}
	if _, err := os.Stat("examples/shop/web/app"); err != nil {
		res.Skipped = "the shop's binaries are not built (make examples)"
		return res
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/var/run/docker.sock", &st); err != nil {
		res.Skipped = "no engine socket at /var/run/docker.sock: " + err.Error()
		return res
	}
	uid := 50000 + rand.IntN(10000)
	home, err := os.MkdirTemp("", "envbench-reach-")
	if err != nil {
		res.Skipped = err.Error()
		return res
	}
	defer os.RemoveAll(home)
	os.Chmod(home, 0o777)
	rule := []string{"OUTPUT", "-m", "owner", "--uid-owner", strconv.Itoa(uid), "!", "-o", "lo", "-j", "REJECT"}
	if out, err := exec.CommandContext(ctx, "iptables", append([]string{"-I"}, rule...)...).CombinedOutput(); err != nil {
		res.Skipped = fmt.Sprintf("iptables: %v: %s", err, bytes.TrimSpace(out))
		return res
	}
	defer exec.Command("iptables", append([]string{"-D"}, rule...)...).Run()

	name := fmt.Sprintf("%sreach-%d", envPrefix, os.Getpid())
	up := func(cred *syscall.Credential) (time.Duration, string, error) {
		cctx, cancel := context.WithTimeout(ctx, commandTimeout)
		defer cancel()
		cmd := exec.CommandContext(cctx, b.envctl, "up", "-f", "examples/shop", "--name", name, "-o", "json")
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "TMPDIR=" + home}
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		begin := time.Now()
		err := cmd.Run()
		took := time.Since(begin)
		var doc struct {
			Reach *struct{ Way string } `json:"reach"`
		}
		_ = json.Unmarshal(stdout.Bytes(), &doc)
		way := "none"
		if doc.Reach != nil {
			way = doc.Reach.Way
		}
		// A fresh, bounded context: the environment goes also when ctx was cancelled, and a
		// down that hangs does not hang the bench (the final sweep then removes what is left).
		dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer dcancel()
		down := exec.CommandContext(dctx, b.envctl, "down", name)
		down.Env = cmd.Env
		downOut, downErr := down.CombinedOutput()
		if err != nil {
			return 0, way, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
		}
		if downErr != nil {
			return 0, way, fmt.Errorf("down %s: %v: %s", name, downErr, bytes.TrimSpace(downOut))
		}
		return took, way, nil
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: st.Gid, Groups: []uint32{st.Gid}}
	// A warm-up of each, not counted: the agent's image is built on its first use.
	for _, c := range []*syscall.Credential{nil, cred} {
		if _, _, err := up(c); err != nil {
			b.fail("reach warm-up: %v", err)
			return res
		}
	}
	for r := 1; r <= b.cfg.runs; r++ {
		order := []*syscall.Credential{nil, cred}
		if r%2 == 0 {
			order = []*syscall.Credential{cred, nil}
		}
		for _, c := range order {
			d, way, err := up(c)
			if err != nil {
				b.fail("reach run %d: %v", r, err)
				return res
			}
			if c == nil {
				res.Direct = append(res.Direct, d)
			} else {
				res.Agent = append(res.Agent, d)
				res.Ways = append(res.Ways, way)
			}
		}
		b.logf("reach round %d/%d: shop up direct %s, setting 1 %s", r, b.cfg.runs, ms(res.Direct[len(res.Direct)-1]), ms(res.Agent[len(res.Agent)-1]))
	}
	return res
}

// markdown is the section of results.md.
func (r *reachResult) markdown() string {
	var b strings.Builder
	b.WriteString("## Reach (issue 10)\n\n")
	b.WriteString("`envctl up -f examples/shop`, wall time, as root on this host (direct: envctl dials the ")
	b.WriteString("containers) and as an unprivileged user in the docker group whose traffic to anything but ")
	b.WriteString("loopback `iptables -m owner` rejects (setting 1: probes go through the agent), alternating, ")
	b.WriteString("after one warm-up of each.\n\n")
	if r.Skipped != "" {
		b.WriteString("Not measured: " + r.Skipped + ".\n\n")
		return b.String()
	}
	d, a := summarize(r.Direct), summarize(r.Agent)
	b.WriteString("| setting | up |\n|---|---|\n")
	fmt.Fprintf(&b, "| direct (root on the host) | %s |\n", spread(d))
	fmt.Fprintf(&b, "| setting 1 (reached by way of: %s) | %s |\n", strings.Join(r.Ways, ", "), spread(a))
	if d.Median > 0 {
		ratio := float64(a.Median) / float64(d.Median)
		verdict := "met"
		if ratio > 1.15 {
			verdict = "not met"
		}
		fmt.Fprintf(&b, "\nSetting 1 / direct, medians: %.2fx (goal: at most 1.15x): %s.\n\n", ratio, verdict)
	}
	return b.String()
}

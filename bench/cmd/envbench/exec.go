package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Measurement is one measured run of a command.
type Measurement struct {
	Start  time.Time
	Wall   time.Duration // from just before the process starts to its exit
	CPU    time.Duration // the child's user + system time
	MaxRSS int64         // the child's peak resident set, bytes
	Stdout string
	Stderr string
}

// interruptGrace is how long a command gets after SIGINT before it is killed: envctl rolls back
// what it started on an interrupt, which takes a few seconds for 60 containers.
const interruptGrace = 60 * time.Second

// measure runs argv in dir and measures it. A cancelled ctx interrupts the command (SIGINT, so
// that envctl rolls back) rather than killing it. The error includes the command's stderr.
func measure(ctx context.Context, dir string, argv ...string) (Measurement, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = interruptGrace
	m := Measurement{Start: time.Now()}
	err := cmd.Run()
	m.Wall = time.Since(m.Start)
	m.Stdout, m.Stderr = stdout.String(), stderr.String()
	if ps := cmd.ProcessState; ps != nil {
		m.CPU = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			m.MaxRSS = ru.Maxrss * 1024 // Linux reports kilobytes
		}
	}
	if err != nil {
		return m, fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, indent(tail(m.Stderr+m.Stdout, 20)))
	}
	return m, nil
}

// output runs argv and returns its trimmed stdout; for the short docker CLI queries around the
// measurements, not for anything measured.
func output(ctx context.Context, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

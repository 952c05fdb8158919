//go:build unix

package envtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// meeting is the directory where the users of one file set meet: the lock that orders their
// joining and leaving, their leases, and the state the first one recorded.
type meeting struct {
	dir string
}

// lock takes the meeting's lock (blocking: the holder may be bringing the environment up,
// which is what the caller waits for). The lock goes with its process, also when it is killed.
func (m meeting) lock() (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Join(m.dir, "leases"), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(m.dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("envtest: locking %s: %w", m.dir, err)
	}
	return func() { f.Close() }, nil
}

// lease is one user's claim on the environment: a file it keeps flock'ed while it uses it.
type lease struct {
	f *os.File
}

// take makes this process's lease. Call it holding the lock.
func (m meeting) take() (*lease, error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	p := filepath.Join(m.dir, "leases", fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b[:])))
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		os.Remove(p)
		return nil, err
	}
	return &lease{f: f}, nil
}

// drop ends the lease. Call it holding the lock.
func (l *lease) drop() {
	os.Remove(l.f.Name())
	l.f.Close()
}

// others counts the live leases besides own (nil: all of them), removing the leases of
// processes that died: a lease whose flock can be taken has no live holder.
func (m meeting) others(own *lease) int {
	entries, err := os.ReadDir(filepath.Join(m.dir, "leases"))
	if err != nil {
		return 0
	}
	live := 0
	for _, e := range entries {
		p := filepath.Join(m.dir, "leases", e.Name())
		if own != nil && p == own.f.Name() {
			continue
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			continue // removed meanwhile
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			os.Remove(p) // its holder is gone
		} else {
			live++
		}
		f.Close()
	}
	return live
}

// state is what the user that brought the environment up recorded for the others: the up's
// JSON document (name, endpoints, probes).
func (m meeting) statePath() string { return filepath.Join(m.dir, "env.json") }

func (m meeting) readState() ([]byte, error) { return os.ReadFile(m.statePath()) }

func (m meeting) writeState(doc []byte) error {
	tmp := m.statePath() + ".tmp"
	if err := os.WriteFile(tmp, doc, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, m.statePath())
}

// probesPath holds the probe history of the up that brought the environment up.
func (m meeting) probesPath() string { return filepath.Join(m.dir, "probes.txt") }

func (m meeting) clearState() {
	os.Remove(m.statePath())
	os.Remove(m.probesPath())
}

// safeName makes a test's name usable as one path element.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

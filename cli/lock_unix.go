//go:build unix

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockEnv takes this machine's lock on one environment for the duration of an up or a down, so
// that two envctl processes working on the same environment at once take turns: the second up
// then finds the first one's environment and keeps it, instead of both creating services and
// tripping over each other's containers. The lock is advisory (flock) and machine-local; it
// cannot order two machines sharing one remote engine or Mesos cluster. When another process
// holds it, lockEnv says so on w once and waits until ctx ends. A lock file that cannot be
// opened (a read-only temp directory) is no lock, not an error.
func lockEnv(ctx context.Context, backend, env string, w io.Writer) (unlock func(), err error) {
	dir := filepath.Join(os.TempDir(), "envctl-locks")
	_ = os.MkdirAll(dir, 0o777) // shared by every user of the machine, like /tmp
	f, err := os.OpenFile(filepath.Join(dir, "env-"+backend+"-"+env+".lock"), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return func() {}, nil
	}
	told := false
	wait := 10 * time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock, also when envctl dies
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return func() {}, nil
		}
		if !told && w != nil {
			fmt.Fprintf(w, "Another envctl is working on environment %q; waiting for it to finish...\n", env)
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 200*time.Millisecond)
	}
}

// tryLockEnv takes the lock only if it is free: the sweep of expired environments skips one
// that another process is working on.
func tryLockEnv(backend, env string) (unlock func(), ok bool) {
	dir := filepath.Join(os.TempDir(), "envctl-locks")
	_ = os.MkdirAll(dir, 0o777)
	f, err := os.OpenFile(filepath.Join(dir, "env-"+backend+"-"+env+".lock"), os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return func() {}, true
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, false
	}
	return func() { f.Close() }, true
}

// markUp records, beside the environment's lock, that an up is under way, and returns what
// clears the record. It is cleared when up ends in any way but being killed; a record found
// later therefore means an up died mid-way (SIGKILL, OOM), and the engine may still be
// finishing creates it had asked for: down then looks again until nothing new appears
// (provisioner.Options.Settle). Found by the fault suite (faults/signals_test.go): containers
// appeared after a down that followed a SIGKILL. A marker that cannot be written is no marker.
func markUp(backend, env string) (clear func()) {
	p := upMarkerPath(backend, env)
	if err := os.WriteFile(p, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o666); err != nil {
		return func() {}
	}
	return func() { _ = os.Remove(p) }
}

// upWasKilled tells whether an up of the environment died without clearing its marker. Call
// it holding the environment's lock, so that a live up cannot be mistaken for a dead one.
func upWasKilled(backend, env string) bool {
	_, err := os.Stat(upMarkerPath(backend, env))
	return err == nil
}

func upMarkerPath(backend, env string) string {
	return filepath.Join(os.TempDir(), "envctl-locks", "env-"+backend+"-"+env+".up")
}

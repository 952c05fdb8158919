//go:build unix

package docker

import (
	"context"
	"errors"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// lockBuckets bounds the number of lock files: environments hash into this many, and two
// environments sharing a bucket only serialise their (rare, ~100 ms) network creations.
const lockBuckets = 64

// hostLock takes an advisory lock (flock) shared by every envctl process on this machine for
// env's network creation, because the engine cannot make "create the network unless one of
// that name exists" atomic: with the default-socket setups envctl is made for, two processes
// running `up` for one environment at once otherwise create two networks of the same name
// (TestTwoBackendsShareOneNetwork saw it in 4 of 30 rounds). It is best effort: when the lock
// file cannot be opened (a read-only or foreign-owned temp directory), it returns a no-op
// unlock and ensureNetwork's re-list is the only guard. It waits for the lock until ctx ends.
func hostLock(ctx context.Context, env string) (unlock func(), err error) {
	dir := filepath.Join(os.TempDir(), "envctl-locks")
	_ = os.MkdirAll(dir, 0o777) // world-writable like /tmp itself: several users may share an engine
	h := fnv.New32a()
	h.Write([]byte(env))
	name := filepath.Join(dir, "docker-network-"+strconv.Itoa(int(h.Sum32()%lockBuckets))+".lock")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return func() {}, nil
	}
	wait := 5 * time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing the file releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return func() {}, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		if wait < 100*time.Millisecond {
			wait *= 2
		}
	}
}

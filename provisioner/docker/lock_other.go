//go:build !unix

package docker

import "context"

// hostLock is a no-op where flock does not exist; ensureNetwork's re-list is the only guard
// across processes there.
func hostLock(ctx context.Context, env string) (unlock func(), err error) {
	return func() {}, nil
}

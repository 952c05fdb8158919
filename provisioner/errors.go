package provisioner

import "errors"

// ErrUnreachable marks an error as "the backend does not answer" (exit code 3), as opposed to
// an environment that failed (exit code 1). Backends wrap it with the place they looked.
var ErrUnreachable = errors.New("backend unreachable")

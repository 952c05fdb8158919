package provisioner

import "errors"

// ErrUnreachable marks an error as "the backend does not answer" (exit code 3), as opposed to
// an environment that failed (exit code 1). Backends wrap it with the place they looked.
var ErrUnreachable = errors.New("backend unreachable")

// ErrHostUnreachable is wrapped by Remove's error for an instance whose host stopped answering
// (Mesos: its agent is unreachable, the task TASK_UNREACHABLE): nothing can stop it until the
// host is back. up replaces such an instance all the same (its old one cannot serve anyone
// the environment can reach), and down removes the rest and says which it could not.
var ErrHostUnreachable = errors.New("its host does not answer")

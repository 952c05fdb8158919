package cli

import (
	"fmt"

	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/provisioner"
)

// serviceSession is what exec, restart and logs begin with: Ctrl-C watched (in.Work ends with
// it), the backend open and able to do what the command needs (can, the backend as T), and the
// environment's instances observed (all, by service) with the named services selected (every
// one when none is named). close undoes it.
type serviceSession[T any] struct {
	in       *interrupts
	b        provisioner.Backend
	can      T
	all      []provisioner.Instance
	selected []provisioner.Instance
}

// openServices opens a serviceSession on environment name. cannot is the error for a backend
// that is not a T, with %s for the backend's name; an unknown service is a usage error.
func openServices[T any](c *urfave.Context, name string, services []string, cannot string) (*serviceSession[T], error) {
	s := &serviceSession[T]{in: watchInterrupts(c.Context, nil)}
	var err error
	if s.b, err = openBackend(s.in.Work, c); err != nil {
		s.in.Stop()
		return nil, err
	}
	can, ok := s.b.(T)
	if !ok {
		err = &exitError{code: ExitFailed, err: fmt.Errorf(cannot, s.b.Name())}
	} else if s.all, err = observeEnv(s.in.Work, s.b, name); err == nil {
		s.selected, err = selectServices(s.all, services, name)
	}
	if err != nil {
		s.close()
		return nil, err
	}
	s.can = can
	return s, nil
}

func (s *serviceSession[T]) close() {
	s.b.Close()
	s.in.Stop()
}

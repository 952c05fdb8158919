package envs

import (
	"fmt"
	"slices"
)

// applyProfiles leaves out the services whose profiles are all inactive, as Compose does,
// unless a service that stays depends on them: bringing up a service without what it needs
// would only fail later, at its readiness.
func (l *loader) applyProfiles() {
	active := map[string]bool{}
	for _, p := range l.opts.Profiles {
		active[p] = true
	}
	keep := map[string]bool{}
	var queue []*Service
	for _, s := range l.env.Services {
		on := len(s.Profiles) == 0
		for _, p := range s.Profiles {
			on = on || active[p]
		}
		if on {
			keep[s.Name] = true
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, d := range s.Deps {
			if !keep[d.Name] {
				keep[d.Name] = true
				queue = append(queue, l.env.byName[d.Name])
			}
		}
	}
	if len(keep) == len(l.env.Services) {
		return
	}
	var left []string
	l.env.Services = slices.DeleteFunc(l.env.Services, func(s *Service) bool {
		if !keep[s.Name] {
			left = append(left, s.Name)
			delete(l.env.byName, s.Name)
			return true
		}
		return false
	})
	l.env.LeftOut = left
}

// Select keeps only the named services and what they depend on, directly or not (envctl up
// SERVICE...). A name that is not a service of the environment is an error naming it.
func (e *Environment) Select(names []string) error {
	keep := map[string]bool{}
	var queue []*Service
	for _, n := range names {
		s := e.byName[n]
		if s == nil {
			all := make([]string, 0, len(e.Services))
			for _, s := range e.Services {
				all = append(all, s.Name)
			}
			return fmt.Errorf("environment %q has no service %q.%s Its services: %s", e.Name, n, didYouMean(n, all), quotedList(all, true))
		}
		if !keep[n] {
			keep[n] = true
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, d := range s.Deps {
			if !keep[d.Name] {
				keep[d.Name] = true
				queue = append(queue, e.byName[d.Name])
			}
		}
	}
	e.Services = slices.DeleteFunc(e.Services, func(s *Service) bool {
		if !keep[s.Name] {
			delete(e.byName, s.Name)
			return true
		}
		return false
	})
	return nil
}

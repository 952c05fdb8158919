package envs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/envctl/envctl/graph"
	"github.com/hashicorp/hcl/v2"
)

// checkCycles reports one diagnostic per dependency cycle. The subject is the reference that
// makes the cycle's first edge; the detail walks the whole cycle with the place of each edge.
func (l *loader) checkCycles() {
	_, err := l.env.Graph().Sort()
	var ce *graph.CycleError
	if !errors.As(err, &ce) {
		return
	}
	for _, cyc := range ce.Cycles {
		if len(cyc) < 2 {
			continue
		}
		var b strings.Builder
		b.WriteString(cyc[0])
		var subject *hcl.Range
		for i := 1; i < len(cyc); i++ {
			if len(cyc) > 2*cycleShown+1 && i == cycleShown+1 {
				// Thousands of steps would be a message nobody reads: its ends name it.
				skip := len(cyc) - 2*cycleShown - 1
				fmt.Fprintf(&b, " -> (%d more)", skip)
				i += skip - 1 // the loop's i++ lands on the first name shown again
				continue
			}
			from, to := l.env.byName[cyc[i-1]], cyc[i]
			r, via, ok := depRange(from, to)
			if subject == nil && ok {
				subject = rangePtr(r)
			}
			if ok && via != "" {
				fmt.Fprintf(&b, " -> %s (%s:%d, through %s)", to, r.Filename, r.Start.Line, via)
			} else if ok {
				fmt.Fprintf(&b, " -> %s (%s:%d)", to, r.Filename, r.Start.Line)
			} else {
				fmt.Fprintf(&b, " -> %s", to)
			}
		}
		// The detail is the path alone: the CLI's tests pin it, and the summary says enough.
		l.errorf(subject, "Dependency cycle", "%s", b.String())
	}
}

// depRange is where service from refers to service to, and the local it goes through.
func depRange(from *Service, to string) (hcl.Range, string, bool) {
	if from == nil {
		return hcl.Range{}, "", false
	}
	for _, d := range from.Deps {
		if d.Name == to {
			return d.Range, d.Via, true
		}
	}
	return hcl.Range{}, "", false
}

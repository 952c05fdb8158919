package cli

import (
	"fmt"
	"io"

	"github.com/envctl/envctl/provisioner"
)

// plainProgress prints one line per event with a timestamp: the form for logs and CI, where a
// live display would only leave escape codes. Probe attempts are thinned out: the first and
// then every tenth, since a slow service would otherwise fill the log.
type plainProgress struct {
	w     io.Writer
	width int
}

func newPlainProgress(w io.Writer, services []string) *plainProgress {
	width := 7
	for _, s := range services {
		width = max(width, len(s))
	}
	return &plainProgress{w: w, width: width}
}

func (p *plainProgress) event(ev provisioner.Event) {
	detail := ev.Detail
	switch ev.Phase {
	case provisioner.PhaseProbing:
		if ev.Attempt > 1 && ev.Attempt%10 != 0 {
			return
		}
		if ev.Attempt > 0 {
			detail = fmt.Sprintf("attempt %d: %s", ev.Attempt, ev.Detail)
		}
	case provisioner.PhaseWaiting:
		detail = "for " + ev.Detail
	case provisioner.PhaseReady, provisioner.PhaseKept:
		if ev.Elapsed > 0 {
			detail = "in " + roundDuration(ev.Elapsed)
			if ev.Detail != "" {
				detail = ev.Detail + ", " + detail
			}
		}
	case provisioner.PhaseSkipped:
		if ev.Detail != "" && ev.Detail != "stopped" {
			detail = "because " + ev.Detail + " failed"
		}
	}
	fmt.Fprintf(p.w, "%s %-*s %-9s %s\n", ev.Time.Format("15:04:05.000"), p.width, ev.Service, ev.Phase, detail)
}

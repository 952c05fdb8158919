package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/envctl/envctl/provisioner"
)

var _ provisioner.Restarter = (*Backend)(nil)

// Restart stops inst's container (its stop signal, then SIGKILL after grace) and starts the
// same container again: its configuration, volumes and copied files stay as they were. Its
// address may change; other services reach it by its alias, which does not.
func (b *Backend) Restart(ctx context.Context, inst provisioner.Instance, grace time.Duration) (provisioner.Instance, error) {
	id, found, err := b.resolve(ctx, inst)
	if err != nil {
		return provisioner.Instance{}, err
	}
	if !found {
		return provisioner.Instance{}, fmt.Errorf("restart %s: no such container", ref(inst))
	}
	inst.ID = id
	if err := b.Stop(ctx, inst, grace); err != nil {
		return provisioner.Instance{}, fmt.Errorf("restart %s: %w", ref(inst), err)
	}
	started, err := b.startCreated(ctx, id)
	if err != nil {
		return provisioner.Instance{}, fmt.Errorf("restart %s: %w", ref(inst), err)
	}
	// A gated container released before finds its gate released and runs at once; one that
	// was still held (a killed up left it) is released now: restart means "run it".
	if err := b.Release(ctx, started); err != nil {
		return provisioner.Instance{}, fmt.Errorf("restart %s: %w", ref(inst), err)
	}
	return started, nil
}

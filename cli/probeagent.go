package cli

import (
	urfave "github.com/urfave/cli/v2"

	"github.com/envctl/envctl/provisioner"
	"github.com/envctl/envctl/provisioner/docker"
	"github.com/envctl/envctl/provisioner/probeagent"
)

// probeAgentCommand is what the probe agent container runs (see provisioner/probeagent): not
// for people, so hidden from help and completion.
func probeAgentCommand() *urfave.Command {
	return &urfave.Command{
		Name:   docker.AgentCommand,
		Hidden: true,
		Usage:  "answer readiness probes on stdin/stdout from inside an environment's network",
		Action: func(c *urfave.Context) error {
			return probeagent.Serve(c.App.Reader, c.App.Writer, provisioner.Direct)
		},
	}
}

// Command envctl brings up throw-away microservice environments for tests from an HCL file, on
// the local Docker Engine or on an Apache Mesos cluster, and removes them again. See README.md.
package main

import (
	"os"

	"github.com/envctl/envctl/cli"
)

func main() { os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)) }

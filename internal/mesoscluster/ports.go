package mesoscluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// reservedPortsFile is the kernel's list of ports it never hands out as ephemeral ports; a
// variable so that tests can point it at a file of their own.
var reservedPortsFile = "/proc/sys/net/ipv4/ip_local_reserved_ports"

// agentPorts is the range the shared/mesos agents offer: 1,000 ports each from 31000 on.
func agentPorts(agents int) string { return fmt.Sprintf("31000-%d", 31000+agents*1000-1) }

// reservePorts keeps the kernel from giving the agents' offered ports to outgoing
// connections: from 32768 on they overlap Linux's ephemeral range, and a port the offer
// names but a client socket holds makes the task's start fail ("bind: address already in
// use", seen in make bench with 3 agents). What it set is recorded in d, so that
// unreservePorts can put the list back. Without root it changes nothing, as before.
func reservePorts(d string, agents int) {
	prev, err := os.ReadFile(reservedPortsFile)
	if err != nil {
		return
	}
	old := strings.TrimSpace(string(prev))
	val := agentPorts(agents)
	if old != "" {
		val = old + "," + val
	}
	if os.WriteFile(reservedPortsFile, []byte(val+"\n"), 0o644) != nil {
		return
	}
	set, err := os.ReadFile(reservedPortsFile) // as the kernel writes it back
	if err != nil {
		return
	}
	_ = os.WriteFile(filepath.Join(d, "reserved-ports"), []byte(old+"\n"+strings.TrimSpace(string(set))+"\n"), 0o644)
}

// unreservePorts puts back the list reservePorts found, unless it has changed since (another
// cluster reserved ports too): then it is left as it is rather than undo someone else's.
func unreservePorts(d string) {
	rec := filepath.Join(d, "reserved-ports")
	b, err := os.ReadFile(rec)
	if err != nil {
		return
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 2 {
		return
	}
	cur, err := os.ReadFile(reservedPortsFile)
	if err == nil && strings.TrimSpace(string(cur)) == lines[1] {
		_ = os.WriteFile(reservedPortsFile, []byte(lines[0]+"\n"), 0o644)
	}
	_ = os.Remove(rec)
}

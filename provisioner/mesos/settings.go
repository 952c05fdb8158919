package mesos

import (
	"fmt"
	"sort"
	"strconv"

	mesospb "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/envctl/envctl/provisioner"
)

// CheckSpec refuses what the Mesos Docker containerizer cannot carry, naming the service and
// the attribute. The CLI calls it right after loading (before anything starts), and Start
// again, so no setting is ever dropped silently.
//
//   - bind mounts and secrets: the agents are other machines; a file of envctl's machine
//     would have to travel through the fetcher from a URI the agents can reach, which envctl
//     does not host;
//   - named volumes: a Docker volume lives on one agent, and down could not remove it
//     (Mesos has no call to remove a Docker volume);
//   - network aliases: on Mesos, services reach each other through the agents' host names and
//     host ports (service.X.host), never through a shared Docker network's DNS.
func CheckSpec(spec provisioner.Spec) error {
	refuse := func(attr, why string) error {
		return fmt.Errorf("service %q: %s cannot be carried to Mesos: %s", spec.Service, attr, why)
	}
	for _, m := range spec.Mounts {
		switch m.Type {
		case provisioner.MountBind:
			return refuse("mount (bind) "+m.Target, "the agents are remote machines and cannot read a file of this one; build it into the image instead")
		case provisioner.MountVolume:
			return refuse("mount (volume) "+m.Source, "a Docker volume would live on one agent, and envctl could not remove it on down")
		}
	}
	if len(spec.Files) > 0 {
		return refuse("secret "+strconv.Quote(spec.Files[0].Name), "the agents are remote machines and Mesos has no secret store envctl can write to; pass it in env instead")
	}
	if len(spec.Aliases) > 0 {
		return refuse("aliases", "on Mesos services reach each other through service.NAME.host and host ports, not through network names")
	}
	if spec.Build != nil && spec.Build.Target != "" {
		return refuse("build target", "the Mesos backend cannot build images")
	}
	return nil
}

// The containerizers Options.Containerizer names.
const (
	ContainerizerDocker = "docker"
	ContainerizerMesos  = "mesos"
)

// SpecChecker is CheckSpec for the containerizer named (ContainerizerDocker or
// ContainerizerMesos): the Mesos containerizer carries fewer of a service's settings, since
// they are `docker run` options there is no Docker Engine for.
func SpecChecker(containerizer string) func(provisioner.Spec) error {
	if containerizer != ContainerizerMesos {
		return CheckSpec
	}
	return checkMesosContainerizer
}

// checkMesosContainerizer refuses what the Mesos containerizer, running a Docker image in the
// agent's own network, cannot carry: the settings that are Docker Engine options, and a host
// name (a task shares its agent's).
func checkMesosContainerizer(spec provisioner.Spec) error {
	if err := CheckSpec(spec); err != nil {
		return err
	}
	var attr string
	switch {
	case spec.Hostname != "":
		attr = "hostname"
	case spec.User != "":
		attr = "user"
	case spec.WorkingDir != "":
		attr = "working_dir"
	case spec.Init:
		attr = "init"
	case spec.ReadOnly:
		attr = "read_only"
	case spec.ShmSize > 0:
		attr = "shm_size"
	case len(spec.CapAdd) > 0 || len(spec.CapDrop) > 0:
		attr = "cap_add/cap_drop"
	case len(spec.ExtraHosts) > 0:
		attr = "extra_hosts"
	case len(spec.Ulimits) > 0:
		attr = "ulimits"
	case spec.StopSignal != "":
		attr = "stop_signal"
	}
	for _, m := range spec.Mounts {
		if m.Type == provisioner.MountTmpfs {
			attr = "mount (tmpfs) " + m.Target
		}
	}
	if attr != "" {
		return fmt.Errorf("service %q: %s cannot be carried to Mesos with --mesos-containerizer mesos: it is a Docker Engine setting, and the Mesos containerizer runs the image without the engine; use --mesos-containerizer docker", spec.Service, attr)
	}
	return nil
}

// settingParameters are the container settings as `docker run` options of the Docker
// containerizer (DockerInfo.parameters: each becomes --key=value).
func settingParameters(spec provisioner.Spec) []mesospb.Parameter {
	var out []mesospb.Parameter
	add := func(k, v string) { out = append(out, mesospb.Parameter{Key: k, Value: v}) }
	if spec.User != "" {
		add("user", spec.User)
	}
	if spec.WorkingDir != "" {
		add("workdir", spec.WorkingDir)
	}
	if spec.Init {
		add("init", "true")
	}
	if spec.ReadOnly {
		add("read-only", "true")
	}
	if spec.ShmSize > 0 {
		add("shm-size", strconv.FormatInt(spec.ShmSize, 10))
	}
	for _, c := range spec.CapAdd {
		add("cap-add", c)
	}
	for _, c := range spec.CapDrop {
		add("cap-drop", c)
	}
	hosts := make([]string, 0, len(spec.ExtraHosts))
	for h := range spec.ExtraHosts {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		add("add-host", h+":"+spec.ExtraHosts[h])
	}
	for _, u := range spec.Ulimits {
		add("ulimit", fmt.Sprintf("%s=%d:%d", u.Name, u.Soft, u.Hard))
	}
	if spec.StopSignal != "" {
		add("stop-signal", spec.StopSignal)
	}
	for _, m := range spec.Mounts {
		if m.Type != provisioner.MountTmpfs {
			continue // refused by CheckSpec
		}
		v := m.Target
		if m.Size > 0 {
			v += ":size=" + strconv.FormatInt(m.Size, 10)
		}
		add("tmpfs", v)
	}
	return out
}

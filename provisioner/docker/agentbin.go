package docker

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/docker/docker/api/types/build"

	"github.com/envctl/envctl/provisioner/gate"
)

// EnvAgentBinary names a linux envctl binary for the engine's platform, for when envctl itself
// is not one (a macOS envctl talking to Docker Desktop's Linux engine).
const EnvAgentBinary = "ENVCTL_AGENT_BINARY"

// LabelAgent marks the images and containers that carry envctl's own binary (the probe agent).
// On a container its value is the environment the agent serves. It is deliberately not
// provisioner.LabelEnv: an agent is not an instance of the environment, and Observe must never
// return it.
const LabelAgent = "io.envctl.agent"

// AgentRepo is the repository of the images AgentImage builds; the tag is the first 12 hex of
// the binary's sha256, so one binary is built into an image once.
const AgentRepo = "envctl-agent"

// AgentBinary returns the path of a static linux envctl binary for the engine architecture arch
// (Go's names: amd64, arm64), to run inside containers (the probe agent, and whatever else
// needs envctl's own code next to the services). It looks, in this order, at:
//
//  1. $ENVCTL_AGENT_BINARY, which must then be such a binary;
//  2. the running executable, when it is one (envctl built for linux on this architecture);
//  3. envctl-linux-<arch> beside the running executable (what a macOS install ships with).
//
// "Static" matters because the images are FROM scratch: a binary that needs a dynamic loader
// (a cgo build) cannot run there. The error says what was tried and how to fix it.
func AgentBinary(arch string) (string, error) {
	if p := os.Getenv(EnvAgentBinary); p != "" {
		if err := checkAgentBinary(p, arch); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvAgentBinary, p, err)
		}
		return p, nil
	}
	if notEnvctl.Load() {
		return "", fmt.Errorf("no static linux/%s envctl binary to run inside the engine's containers: this program embeds envctl but is not envctl; set %s to a static envctl (CGO_ENABLED=0 go build -o envctl github.com/envctl/envctl)", arch, EnvAgentBinary)
	}
	exe, err := os.Executable()
	if err == nil {
		if r, rerr := filepath.EvalSymlinks(exe); rerr == nil {
			exe = r
		}
	}
	return agentBinaryFor(exe, err, arch)
}

// agentBinaryFor is AgentBinary's search from the executable exe (or the error finding it).
func agentBinaryFor(exe string, exeErr error, arch string) (string, error) {
	var tried []string
	if exeErr == nil {
		if err := checkAgentBinary(exe, arch); err == nil {
			return exe, nil
		} else {
			tried = append(tried, fmt.Sprintf("%s: %v", exe, err))
		}
		beside := filepath.Join(filepath.Dir(exe), "envctl-linux-"+arch)
		if err := checkAgentBinary(beside, arch); err == nil {
			return beside, nil
		} else {
			tried = append(tried, fmt.Sprintf("%s: %v", beside, err))
		}
	} else {
		tried = append(tried, "the running executable: "+exeErr.Error())
	}
	return "", fmt.Errorf("no static linux/%s envctl binary to run inside the engine's containers (tried %s); "+
		"build one with `CGO_ENABLED=0 GOOS=linux GOARCH=%s go build -o envctl-linux-%s .` and put it beside envctl, or set %s to its path",
		arch, strings.Join(tried, "; "), arch, arch, EnvAgentBinary)
}

// notEnvctl is set by ExecutableIsNotEnvctl.
var notEnvctl atomic.Bool

// ExecutableIsNotEnvctl tells AgentBinary never to take the running executable (or a file
// beside it) for envctl: a program that embeds envctl's packages — a test binary using envtest —
// is not envctl, and run as the gate or the probe agent inside a container it would run its
// tests instead. Without $ENVCTL_AGENT_BINARY such a program then has no agent binary: the gate
// falls back to creating containers ahead (and says so in --diagnostics), and the probe agent is
// unavailable, which the direct way of a Linux host does not need.
func ExecutableIsNotEnvctl() { notEnvctl.Store(true) }

// elfMachines maps Go architectures to ELF machine types.
var elfMachines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"386":     elf.EM_386,
	"arm":     elf.EM_ARM,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
	"riscv64": elf.EM_RISCV,
}

// checkAgentBinary tells whether p is a static linux executable for arch.
func checkAgentBinary(p, arch string) error {
	notLinux := fmt.Errorf("not a linux binary (built for %s/%s?)", runtime.GOOS, runtime.GOARCH)
	raw, err := os.Open(p)
	if err != nil {
		return err
	}
	defer raw.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(raw, magic); err != nil || string(magic) != elf.ELFMAG {
		return notLinux
	}
	f, err := elf.NewFile(raw)
	if err != nil {
		return notLinux
	}
	defer f.Close()
	want, known := elfMachines[arch]
	if !known {
		return fmt.Errorf("unknown engine architecture %q", arch)
	}
	if f.Machine != want {
		return fmt.Errorf("built for %s, the engine runs %s", f.Machine, arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("dynamically linked (a cgo build); build it with CGO_ENABLED=0")
		}
	}
	return nil
}

// EngineArch is the engine's architecture in Go's names (amd64, arm64), asked once.
func (b *Backend) EngineArch(ctx context.Context) (string, error) {
	b.archOnce.Lock()
	defer b.archOnce.Unlock()
	if b.arch != "" {
		return b.arch, nil
	}
	err := call(ctx, func(ctx context.Context) error {
		v, err := b.api.ServerVersion(ctx)
		if err != nil {
			return err
		}
		if v.Os != "" && v.Os != "linux" {
			return fmt.Errorf("the engine runs %s containers; envctl needs a Linux engine", v.Os)
		}
		b.arch = v.Arch
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("engine version: %w", err)
	}
	return b.arch, nil
}

// agentLayout ends the agent image's tag: it names the image's layout (the binary at
// gate.Binary), so that an image an older envctl built for the same binary is not taken.
const agentLayout = "-g"

// AgentImage returns the reference of an image FROM scratch holding the agent binary (see
// AgentBinary) at gate.Binary (/.envctl/envctl), building it through the engine's build API
// when the engine lacks it. No registry is involved. The image carries LabelAgent; envctl gc
// removes it once stale (RemoveStaleAgentImages).
func (b *Backend) AgentImage(ctx context.Context) (string, error) {
	b.agentImageMu.Lock()
	defer b.agentImageMu.Unlock()
	bin, sum, _, err := b.agentBinarySum(ctx)
	if err != nil {
		return "", err
	}
	ref := AgentRepo + ":" + sum[:12] + agentLayout
	if _, found, err := b.imageID(ctx, ref); err != nil || found {
		if found {
			b.touchAgentImage(ctx, ref) // in use: gc keeps it (RemoveStaleAgentImages)
		}
		return ref, err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(agentContext(pw, bin)) }()
	defer pr.Close()
	resp, err := b.api.ImageBuild(ctx, pr, build.ImageBuildOptions{
		Tags:        []string{ref},
		Labels:      map[string]string{LabelAgent: "image"},
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
	})
	if err != nil {
		return "", fmt.Errorf("build the agent image: %w", err)
	}
	defer resp.Body.Close()
	msg, err := readStream(resp.Body, io.Discard)
	if err == nil && msg != "" {
		err = errors.New(strings.TrimSpace(msg))
	}
	if err != nil {
		return "", fmt.Errorf("build the agent image: %w", err)
	}
	return ref, nil
}

// agentBinarySum returns the agent binary for the engine's architecture (AgentBinary) and its
// hex sha256, which names what envctl puts on the engine for it (the agent image, the gate's
// volume). noBinary tells an error of AgentBinary (there is no such binary) from one of the
// engine's.
func (b *Backend) agentBinarySum(ctx context.Context) (bin, sum string, noBinary bool, err error) {
	arch, err := b.EngineArch(ctx)
	if err != nil {
		return "", "", false, err
	}
	if bin, err = AgentBinary(arch); err != nil {
		return "", "", true, err
	}
	if sum, err = fileSHA256(bin); err != nil {
		return "", "", false, fmt.Errorf("agent binary: %w", err)
	}
	return bin, sum, false, nil
}

// agentContext writes the build context of the agent image: a Dockerfile and the binary.
func agentContext(w io.Writer, bin string) error {
	f, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	// The binary is in a directory of its own, so that the gate's volume can be filled from
	// this image (see fillGateVolume).
	dockerfile := "FROM scratch\nCOPY envctl " + gate.Binary + "\nENTRYPOINT [\"" + gate.Binary + "\"]\n"
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))}); err != nil {
		return err
	}
	if _, err := io.WriteString(tw, dockerfile); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "envctl", Mode: 0o755, Size: st.Size()}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return err
	}
	return tw.Close()
}

var (
	sumMu    sync.Mutex
	sumCache = map[string]string{}
)

// fileSHA256 is the hex sha256 of the file at p, remembered per path for the process.
func fileSHA256(p string) (string, error) {
	sumMu.Lock()
	defer sumMu.Unlock()
	if s, ok := sumCache[p]; ok {
		return s, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	s := hex.EncodeToString(h.Sum(nil))
	sumCache[p] = s
	return s, nil
}

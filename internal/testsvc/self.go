package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// self is what the process can tell about the container it runs in, for the tests of the
// container settings (user, working_dir, hostname, init, ulimits, capabilities, mounts).
type self struct {
	UID, GID int
	Groups   []int
	Cwd      string
	Hostname string
	PID      int
	// PID1 is the command line of PID 1: testsvc itself, or the init the engine put first.
	PID1 string
	// Rlimits maps "nofile", "nproc", "core" to "soft:hard" (-1 for unlimited).
	Rlimits map[string]string
	// CapEff is the effective capability set, hex, from /proc/self/status.
	CapEff string
	// Mounts maps a mount point to "fstype options" from /proc/self/mountinfo.
	Mounts map[string]string
	// ShmSize is the size of /dev/shm in bytes.
	ShmSize int64
	// Began is when this process began (its main package's initialisation): the tests of
	// start ordering compare it with the time its dependencies got ready.
	Began time.Time
	// SigBlk and SigIgn are the blocked and ignored signal masks, hex, from /proc/self/status
	// (the gate must hand the service the ones a plain start gives).
	SigBlk, SigIgn string
}

// began is when the process began, as close to its exec as Go lets a program say.
var began = time.Now()

func readSelf() self {
	s := self{UID: os.Getuid(), GID: os.Getgid(), PID: os.Getpid(), Rlimits: map[string]string{}, Mounts: map[string]string{}, Began: began}
	s.Groups, _ = os.Getgroups()
	s.Cwd, _ = os.Getwd()
	s.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/1/cmdline"); err == nil {
		s.PID1 = strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ")
	}
	for name, res := range map[string]int{"nofile": unix.RLIMIT_NOFILE, "nproc": unix.RLIMIT_NPROC, "core": unix.RLIMIT_CORE} {
		var r unix.Rlimit
		if unix.Getrlimit(res, &r) == nil {
			s.Rlimits[name] = limit(r.Cur) + ":" + limit(r.Max)
		}
	}
	if f, err := os.Open("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
				s.CapEff = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(sc.Text(), "SigBlk:"); ok {
				s.SigBlk = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(sc.Text(), "SigIgn:"); ok {
				s.SigIgn = strings.TrimSpace(v)
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		// "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			pre, post, ok := strings.Cut(sc.Text(), " - ")
			fields, pf := strings.Fields(pre), strings.Fields(post)
			if !ok || len(fields) < 6 || len(pf) < 3 {
				continue
			}
			s.Mounts[fields[4]] = pf[0] + " " + fields[5] + "," + pf[2]
		}
		f.Close()
	}
	var st syscall.Statfs_t
	if syscall.Statfs("/dev/shm", &st) == nil {
		s.ShmSize = int64(st.Blocks) * st.Bsize
	}
	return s
}

func limit(v uint64) string {
	if v == unix.RLIM_INFINITY {
		return "-1"
	}
	return strconv.FormatUint(v, 10)
}

// fileInfo is what /file answers about one path.
type fileInfo struct {
	Content string
	Mode    string // like "-r--r--r--"
	UID     int
	GID     int
	Error   string `json:",omitempty"`
}

func addSelfHandlers(mux *http.ServeMux) {
	mux.HandleFunc("/self", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(readSelf())
	})
	// /file?path=P: the content, mode and owner of P.
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Query().Get("path")
		var fi fileInfo
		if st, err := os.Stat(p); err != nil {
			fi.Error = err.Error()
		} else {
			fi.Mode = st.Mode().String()
			if sys, ok := st.Sys().(*syscall.Stat_t); ok {
				fi.UID, fi.GID = int(sys.Uid), int(sys.Gid)
			}
			if !st.IsDir() {
				b, err := os.ReadFile(p)
				if err != nil {
					fi.Error = err.Error()
				}
				fi.Content = string(b)
			} else {
				ents, _ := os.ReadDir(p)
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				fi.Content = strings.Join(names, "\n")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(fi)
	})
	// /write?path=P&data=D writes D to P (creating it), answering "ok" or the error (500).
	mux.HandleFunc("/write", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := os.WriteFile(q.Get("path"), []byte(q.Get("data")), 0o644); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	})
}

// tool runs the small subcommands that make the FROM-scratch test image usable with exec:
// cat PATH..., write PATH DATA, exit N, echo ARGS..., env, isatty, self. ok is false when args name none of them.
func tool(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case "cat":
		for _, p := range args[1:] {
			b, err := os.ReadFile(p)
			if err != nil {
				fmt.Fprintf(stderr, "testsvc: cat: %v\n", err)
				return 1, true
			}
			stdout.Write(b)
		}
		if len(args) == 1 {
			io.Copy(stdout, stdin)
		}
		return 0, true
	case "exit":
		n := 0
		if len(args) > 1 {
			n, _ = strconv.Atoi(args[1])
		}
		return n, true
	case "write":
		if len(args) != 3 {
			fmt.Fprintln(stderr, "testsvc: usage: write PATH DATA")
			return 2, true
		}
		if err := os.WriteFile(args[1], []byte(args[2]), 0o644); err != nil {
			fmt.Fprintf(stderr, "testsvc: write: %v\n", err)
			return 1, true
		}
		return 0, true
	case "echo":
		fmt.Fprintln(stdout, strings.Join(args[1:], " "))
		return 0, true
	case "env":
		for _, kv := range os.Environ() {
			fmt.Fprintln(stdout, kv)
		}
		return 0, true
	case "isatty":
		_, err := unix.IoctlGetTermios(0, unix.TCGETS)
		fmt.Fprintln(stdout, err == nil)
		return 0, true
	case "self":
		json.NewEncoder(stdout).Encode(readSelf())
		return 0, true
	}
	return 0, false
}

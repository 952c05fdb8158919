// Command mesosfloor is Mesos's own limit for make bench (issue 16): a bare v1 scheduler, with
// none of envctl's code on its path (only mesos-go's generated types and its RecordIO reader,
// over plain net/http), that runs N Docker tasks as fast as the cluster can. It subscribes,
// puts the tasks on the first offers with one ACCEPT per offer (no dependencies, no health
// checks), polls each task's host port from outside with an HTTP GET until it answers 200, and
// prints
//
//	ready SECONDS LAUNCH_TO_READY_MEDIAN_SECONDS
//
// (SECONDS from the process's start). With -hold it then waits for a line on stdin (the
// benchmark measures the idle cluster meanwhile); then it sends every KILL at once, waits for
// all the terminal updates, prints
//
//	killed SECONDS
//
// (from the first KILL), and tears its framework down. Its framework has failover_timeout 0,
// so a killed mesosfloor leaves nothing: the master removes the framework and its tasks.
//
// -containerizer picks how the agents run the image: docker (the default: a BRIDGE network,
// the container's -port published on a host port from the offer's highest range, where an
// agent's Docker host ports are) or mesos (the image as the root filesystem in the agent's own
// network: the task listens on a port from the offer's lowest range at or above 1024 itself).
// Either way an argument {port} is replaced by the port the task listens on in its container:
// -port with docker, the offered port with mesos.
//
//	mesosfloor -master http://127.0.0.1:5050 -image IMG -n 30 -- --delay 300ms --http 80
//	mesosfloor -master http://10.213.100.1:5050 -image REG/IMG -containerizer mesos -- --http {port}
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/recordio"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

const media = "application/x-protobuf"

type task struct {
	id       string
	host     string
	port     uint64
	launched time.Time
	ready    time.Duration // launch to ready
	state    mesos.TaskState
	polling  bool
}

type floor struct {
	master   string
	hc       *http.Client
	fwID     string
	stream   string
	image    string
	mesosCtz bool // the Mesos containerizer, not the Docker one
	args     []string
	cpus     float64
	mem      float64
	begin    time.Time
	mu       sync.Mutex
	tasks    []*task
	pending  []*task
	changed  chan struct{}
	readyN   int
	terminal int
}

func main() {
	master := flag.String("master", os.Getenv("ENVCTL_TEST_MESOS_MASTER"), "the Mesos master, http://HOST:PORT")
	n := flag.Int("n", 30, "tasks")
	image := flag.String("image", "", "the Docker image of every task (its arguments follow --)")
	port := flag.Int("port", 80, "the container port each task serves HTTP on")
	cpus := flag.Float64("cpus", 0.1, "cpus per task")
	mem := flag.Float64("mem", 32, "mem (MB) per task")
	hold := flag.Bool("hold", false, "after ready, wait for a line on stdin before killing")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	ctz := flag.String("containerizer", "docker", "how the agents run the image: docker or mesos")
	flag.Parse()
	if *ctz != "docker" && *ctz != "mesos" {
		fmt.Fprintf(os.Stderr, "mesosfloor: -containerizer %q: want docker or mesos\n", *ctz)
		os.Exit(2)
	}
	if *master == "" || *image == "" {
		fmt.Fprintln(os.Stderr, "usage: mesosfloor -master URL -image IMG [-n N] [-hold] -- ARGS...")
		os.Exit(2)
	}
	f := &floor{master: strings.TrimRight(*master, "/"), image: *image, mesosCtz: *ctz == "mesos", args: flag.Args(), cpus: *cpus, mem: *mem,
		hc: &http.Client{Timeout: 30 * time.Second}, begin: time.Now(), changed: make(chan struct{})}
	for i := 0; i < *n; i++ {
		t := &task{id: fmt.Sprintf("floor.%d.%d", os.Getpid(), i)}
		f.tasks = append(f.tasks, t)
		f.pending = append(f.pending, t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := f.run(ctx, uint32(*port), *hold); err != nil {
		fmt.Fprintln(os.Stderr, "mesosfloor:", err)
		os.Exit(1)
	}
}

func (f *floor) run(ctx context.Context, cport uint32, hold bool) error {
	u, err := user.Current()
	if err != nil {
		return err
	}
	zero := 0.0
	name := fmt.Sprintf("mesosfloor-%d", os.Getpid())
	sub := &scheduler.Call{Type: scheduler.Call_SUBSCRIBE, Subscribe: &scheduler.Call_Subscribe{
		FrameworkInfo: &mesos.FrameworkInfo{User: u.Username, Name: name, FailoverTimeout: &zero}}}
	body, _ := sub.Marshal()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.master+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", media)
	req.Header.Set("Accept", media)
	resp, err := (&http.Client{}).Do(req) // no timeout: the stream lasts
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("SUBSCRIBE: %s: %s", resp.Status, b)
	}
	f.stream = resp.Header.Get("Mesos-Stream-Id")
	events := make(chan error, 1)
	go func() { events <- f.loop(ctx, resp.Body, cport) }()

	if err := f.wait(ctx, events, func() bool { return f.readyN == len(f.tasks) }); err != nil {
		return err
	}
	var l2r []float64
	f.mu.Lock()
	for _, t := range f.tasks {
		l2r = append(l2r, t.ready.Seconds())
	}
	f.mu.Unlock()
	sort.Float64s(l2r)
	fmt.Printf("ready %.3f %.3f\n", time.Since(f.begin).Seconds(), l2r[len(l2r)/2])
	if hold {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	}
	killStart := time.Now()
	var wg sync.WaitGroup
	for _, t := range f.tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.call(ctx, &scheduler.Call{Type: scheduler.Call_KILL, Kill: &scheduler.Call_Kill{TaskID: mesos.TaskID{Value: t.id}}}); err != nil {
				fmt.Fprintln(os.Stderr, "mesosfloor: KILL:", err)
			}
		}()
	}
	wg.Wait()
	if err := f.wait(ctx, events, func() bool { return f.terminal == len(f.tasks) }); err != nil {
		return err
	}
	fmt.Printf("killed %.3f\n", time.Since(killStart).Seconds())
	return f.call(ctx, &scheduler.Call{Type: scheduler.Call_TEARDOWN})
}

// wait blocks until cond holds (checked under f.mu after every change).
func (f *floor) wait(ctx context.Context, events <-chan error, cond func() bool) error {
	for {
		f.mu.Lock()
		ok, ch := cond(), f.changed
		f.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case err := <-events:
			return fmt.Errorf("subscription ended: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *floor) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *floor) call(ctx context.Context, c *scheduler.Call) error {
	f.mu.Lock()
	c.FrameworkID = &mesos.FrameworkID{Value: f.fwID}
	f.mu.Unlock()
	body, err := c.Marshal()
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.master+"/api/v1/scheduler", bytes.NewReader(body))
	req.Header.Set("Content-Type", media)
	req.Header.Set("Mesos-Stream-Id", f.stream)
	resp, err := f.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", c.Type, resp.Status, b)
	}
	return nil
}

// loop handles the subscription's events until it ends.
func (f *floor) loop(ctx context.Context, body io.Reader, cport uint32) error {
	r := recordio.NewReader(body)
	for {
		frame, err := r.ReadFrame()
		if err != nil {
			return err
		}
		var ev scheduler.Event
		if err := ev.Unmarshal(frame); err != nil {
			return err
		}
		switch ev.Type {
		case scheduler.Event_SUBSCRIBED:
			f.mu.Lock()
			f.fwID = ev.Subscribed.FrameworkID.Value
			f.mu.Unlock()
		case scheduler.Event_OFFERS:
			f.offers(ctx, ev.Offers.Offers, cport)
		case scheduler.Event_UPDATE:
			f.update(ctx, ev.Update.Status)
		case scheduler.Event_ERROR:
			return errors.New(ev.Error.Message)
		}
	}
}

// offers places the pending tasks on the offers, spreading them (each task on the offer with
// the most cpus left), and sends one ACCEPT per offer; unused offers are declined.
func (f *floor) offers(ctx context.Context, offers []mesos.Offer, cport uint32) {
	type slot struct {
		o     mesos.Offer
		cpus  float64
		mem   float64
		ports []uint64
		infos []mesos.TaskInfo
	}
	var slots []*slot
	for _, o := range offers {
		s := &slot{o: o}
		for _, r := range o.Resources {
			switch r.Name {
			case "cpus":
				s.cpus += r.GetScalar().GetValue()
			case "mem":
				s.mem += r.GetScalar().GetValue()
			case "ports":
				s.ports = append(s.ports, f.usablePorts(r.GetRanges().GetRange())...)
			}
		}
		slots = append(slots, s)
	}
	f.mu.Lock()
	var left []*task
	for _, t := range f.pending {
		var best *slot
		for _, s := range slots {
			if s.cpus+1e-9 >= f.cpus && s.mem+1e-9 >= f.mem && len(s.ports) > 0 && (best == nil || s.cpus > best.cpus) {
				best = s
			}
		}
		if best == nil {
			left = append(left, t)
			continue
		}
		hp := best.ports[0]
		best.ports = best.ports[1:]
		best.cpus -= f.cpus
		best.mem -= f.mem
		t.host, t.port, t.launched = best.o.Hostname, hp, time.Now()
		best.infos = append(best.infos, f.taskInfo(t, best.o.AgentID, cport))
	}
	f.pending = left
	f.mu.Unlock()
	refuse := 60.0
	for _, s := range slots {
		var c *scheduler.Call
		if len(s.infos) > 0 {
			c = &scheduler.Call{Type: scheduler.Call_ACCEPT, Accept: &scheduler.Call_Accept{OfferIDs: []mesos.OfferID{s.o.ID},
				Operations: []mesos.Offer_Operation{{Type: mesos.Offer_Operation_LAUNCH, Launch: &mesos.Offer_Operation_Launch{TaskInfos: s.infos}}},
				Filters:    &mesos.Filters{RefuseSeconds: &refuse}}}
		} else {
			c = &scheduler.Call{Type: scheduler.Call_DECLINE, Decline: &scheduler.Call_Decline{OfferIDs: []mesos.OfferID{s.o.ID},
				Filters: &mesos.Filters{RefuseSeconds: &refuse}}}
		}
		if err := f.call(ctx, c); err != nil {
			fmt.Fprintln(os.Stderr, "mesosfloor:", err)
		}
	}
	f.mu.Lock()
	more := len(f.pending) > 0
	f.mu.Unlock()
	if more {
		_ = f.call(ctx, &scheduler.Call{Type: scheduler.Call_REVIVE, Revive: &scheduler.Call_Revive{}})
	} else {
		_ = f.call(ctx, &scheduler.Call{Type: scheduler.Call_SUPPRESS, Suppress: &scheduler.Call_Suppress{}})
	}
}

// usablePorts are the ports of an offer's ranges a task of this containerizer can take (at
// most 1000): for Docker, those of the highest range (a multi-host agent forwards only its
// Docker range from its address); for Mesos, those of the lowest ranges from 1024 on (the
// task binds the port itself, unprivileged ports only).
func (f *floor) usablePorts(ranges []mesos.Value_Range) []uint64 {
	rs := append([]mesos.Value_Range(nil), ranges...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Begin < rs[j].Begin })
	if !f.mesosCtz && len(rs) > 0 {
		rs = rs[len(rs)-1:]
	}
	lowest := uint64(0)
	if f.mesosCtz {
		lowest = 1024
	}
	var out []uint64
	for _, rg := range rs {
		for p := max(rg.Begin, lowest); p <= rg.End && len(out) < 1000; p++ {
			out = append(out, p)
		}
	}
	return out
}

func (f *floor) taskInfo(t *task, agent mesos.AgentID, cport uint32) mesos.TaskInfo {
	no := false
	tcp := "tcp"
	listen := cport
	if f.mesosCtz {
		listen = uint32(t.port)
	}
	args := make([]string, len(f.args))
	for i, a := range f.args {
		args[i] = strings.ReplaceAll(a, "{port}", strconv.FormatUint(uint64(listen), 10))
	}
	container := &mesos.ContainerInfo{Type: mesos.ContainerInfo_DOCKER.Enum(), Docker: &mesos.ContainerInfo_DockerInfo{
		Image: f.image, Network: mesos.ContainerInfo_DockerInfo_BRIDGE.Enum(),
		PortMappings: []mesos.ContainerInfo_DockerInfo_PortMapping{{HostPort: uint32(t.port), ContainerPort: cport, Protocol: &tcp}}}}
	if f.mesosCtz {
		// The agent's docker image provider pulls the image (or finds it in its store).
		cached := true
		container = &mesos.ContainerInfo{Type: mesos.ContainerInfo_MESOS.Enum(), Mesos: &mesos.ContainerInfo_MesosInfo{
			Image: &mesos.Image{Type: mesos.Image_DOCKER.Enum(), Docker: &mesos.Image_Docker{Name: f.image}, Cached: &cached}}}
	}
	return mesos.TaskInfo{
		Name: t.id, TaskID: mesos.TaskID{Value: t.id}, AgentID: agent,
		Resources: []mesos.Resource{
			{Name: "cpus", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: f.cpus}},
			{Name: "mem", Type: mesos.SCALAR.Enum(), Scalar: &mesos.Value_Scalar{Value: f.mem}},
			{Name: "ports", Type: mesos.RANGES.Enum(), Ranges: &mesos.Value_Ranges{Range: []mesos.Value_Range{{Begin: t.port, End: t.port}}}},
		},
		Command:   &mesos.CommandInfo{Shell: &no, Arguments: args},
		Container: container,
	}
}

func (f *floor) update(ctx context.Context, st mesos.TaskStatus) {
	if len(st.UUID) > 0 && st.AgentID != nil {
		go func() {
			_ = f.call(ctx, &scheduler.Call{Type: scheduler.Call_ACKNOWLEDGE, Acknowledge: &scheduler.Call_Acknowledge{
				AgentID: *st.AgentID, TaskID: st.TaskID, UUID: st.UUID}})
		}()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var t *task
	for _, x := range f.tasks {
		if x.id == st.TaskID.Value {
			t = x
		}
	}
	if t == nil {
		return
	}
	was := t.state
	t.state = st.GetState()
	switch t.state {
	case mesos.TASK_RUNNING:
		if !t.polling {
			t.polling = true
			go f.poll(ctx, t)
		}
	case mesos.TASK_FINISHED, mesos.TASK_FAILED, mesos.TASK_KILLED, mesos.TASK_ERROR, mesos.TASK_LOST,
		mesos.TASK_DROPPED, mesos.TASK_GONE, mesos.TASK_GONE_BY_OPERATOR, mesos.TASK_UNKNOWN:
		if was != t.state {
			f.terminal++
			if f.readyN < len(f.tasks) && t.ready == 0 {
				fmt.Fprintf(os.Stderr, "mesosfloor: task %s ended before it was ready: %s %s\n", t.id, t.state, st.GetMessage())
			}
		}
	}
	f.notifyLocked()
}

// poll GETs the task's host port from outside until it answers 200: every 20 ms, a fresh
// connection each time.
func (f *floor) poll(ctx context.Context, t *task) {
	url := "http://" + net.JoinHostPort(t.host, strconv.FormatUint(t.port, 10)) + "/"
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for ctx.Err() == nil {
		resp, err := c.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				f.mu.Lock()
				t.ready = time.Since(t.launched)
				f.readyN++
				f.notifyLocked()
				f.mu.Unlock()
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/master"
	"github.com/mesos/mesos-go/api/v1/lib/quota"
	"github.com/rogpeppe/go-internal/testscript"
)

// The scripts' commands that act on the Mesos master directly, through its operator API, as a
// cluster's operator would (ENVCTL_MESOS_MASTER: the double or the real master).

// operatorCall sends one operator API call (protobuf) and decodes the answer.
func operatorCall(ts *testscript.TestScript, call *master.Call) *master.Response {
	body, err := call.Marshal()
	if err != nil {
		ts.Fatalf("marshal %s: %v", call.Type, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(ts.Getenv("ENVCTL_MESOS_MASTER"), "/")+"/api/v1", bytes.NewReader(body))
	if err != nil {
		ts.Fatalf("%s: %v", call.Type, err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Accept", "application/x-protobuf")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ts.Fatalf("%s: %v", call.Type, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		ts.Fatalf("%s: %s: %s", call.Type, resp.Status, out)
	}
	r := &master.Response{}
	if len(out) > 0 {
		if err := r.Unmarshal(out); err != nil {
			ts.Fatalf("%s: decode: %v", call.Type, err)
		}
	}
	return r
}

// cmdMesosQuota: mesos-quota ROLE [NAME=LIMIT...] — sets ROLE's quota limits (cpus=0.25
// mem=512) with UPDATE_QUOTA; with no limits, removes its quota.
func cmdMesosQuota(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: mesos-quota ROLE [NAME=LIMIT...]")
	}
	cfg := quota.QuotaConfig{Role: args[0]}
	for _, a := range args[1:] {
		k, v, ok := strings.Cut(a, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			ts.Fatalf("mesos-quota: %q is not NAME=NUMBER", a)
		}
		if cfg.Limits == nil {
			cfg.Limits = map[string]mesos.Value_Scalar{}
		}
		cfg.Limits[k] = mesos.Value_Scalar{Value: f}
	}
	force := true // limits may exceed the cluster; only guarantees are checked against it
	operatorCall(ts, &master.Call{Type: master.Call_UPDATE_QUOTA, UpdateQuota: &master.Call_UpdateQuota{
		Force: &force, QuotaConfigs: []quota.QuotaConfig{cfg}}})
}

// cmdMesosRole: mesos-role ENV ROLE — checks that the framework of environment ENV registered
// under ROLE alone, as a MULTI_ROLE framework, and that every task of it holds resources
// allocated to ROLE.
func cmdMesosRole(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mesos-role ENV ROLE")
	}
	env, role := args[0], args[1]
	fws := operatorCall(ts, &master.Call{Type: master.Call_GET_FRAMEWORKS}).GetGetFrameworks().GetFrameworks()
	var id string
	ids := map[string]bool{}
	var problems []string
	for _, fw := range fws {
		if fw.FrameworkInfo.Name != "envctl-"+env {
			continue
		}
		id = fw.FrameworkInfo.ID.GetValue()
		ids[id] = true
		if got := fw.FrameworkInfo.Roles; len(got) != 1 || got[0] != role {
			problems = append(problems, fmt.Sprintf("roles %v", got))
		}
		multi := false
		for _, c := range fw.FrameworkInfo.Capabilities {
			multi = multi || c.Type == mesos.FrameworkInfo_Capability_MULTI_ROLE
		}
		if !multi {
			problems = append(problems, "no MULTI_ROLE capability")
		}
	}
	if id == "" {
		problems = append(problems, "no framework")
	} else {
		tasks := operatorCall(ts, &master.Call{Type: master.Call_GET_TASKS}).GetGetTasks().GetTasks()
		n := 0
		for _, t := range tasks {
			if !ids[t.FrameworkID.Value] {
				continue
			}
			n++
			for _, r := range t.Resources {
				if r.AllocationInfo.GetRole() != role {
					problems = append(problems, fmt.Sprintf("task %s: resource %s allocated to %q", t.TaskID.Value, r.Name, r.AllocationInfo.GetRole()))
				}
			}
		}
		if n == 0 {
			problems = append(problems, "no task")
		}
	}
	if (len(problems) == 0) == neg {
		ts.Fatalf("environment %s under role %s: %v", env, role, problems)
	}
}

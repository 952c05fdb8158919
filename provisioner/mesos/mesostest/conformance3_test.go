package mesostest

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"net/http"
	"testing"
	"time"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/master"
	"github.com/mesos/mesos-go/api/v1/lib/quota"
	"github.com/mesos/mesos-go/api/v1/lib/scheduler"
)

// Item 35 (beyond mesos.md §5, for envctl's --mesos-role): a role's quota. UPDATE_QUOTA sets
// a limit and GET_QUOTA returns it; a MULTI_ROLE framework under the role is offered, over
// all its offers, no more than the limit, each offer and resource carrying allocation_info of
// the role; a quota for an invalid role is refused; GET_ROLES lists the role with its
// framework; a config with no limit puts the default quota back. The role is the subtest's own, so the real master's other
// users are not touched.
func TestConformance35_Quota(t *testing.T) {
	conformance(t, func(t *testing.T, tg *target, c testCodec) {
		m := tg.start(t, Options{NoDocker: true})
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		role := "quota-" + hex.EncodeToString(b)
		setQuota := func(cfg quota.QuotaConfig) (int, string) {
			t.Helper()
			call := &master.Call{Type: master.Call_UPDATE_QUOTA, UpdateQuota: &master.Call_UpdateQuota{
				Force: ptr(true), QuotaConfigs: []quota.QuotaConfig{cfg}}}
			body, err := call.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			// protobuf whatever the codec: mesos-go's JSON writes the maps as lists.
			code, _, out := (&client{t: t, tg: m, c: testCodecs[1]}).post("/api/v1", body,
				map[string]string{"Content-Type": mediaProtobuf, "Accept": mediaProtobuf})
			return code, out
		}
		t.Cleanup(func() { setQuota(quota.QuotaConfig{Role: role}) })
		limits := map[string]mesos.Value_Scalar{"cpus": {Value: 0.5}, "mem": {Value: 256}}
		if code, out := setQuota(quota.QuotaConfig{Role: role, Limits: limits}); code != http.StatusOK {
			t.Fatalf("UPDATE_QUOTA: got %d %q, want 200", code, out)
		}
		// An invalid role is refused (the real master takes a quota for "*" too).
		if code, _ := setQuota(quota.QuotaConfig{Role: "-bad", Limits: limits}); code != http.StatusBadRequest {
			t.Errorf("UPDATE_QUOTA for role -bad: got %d, want 400", code)
		}
		configOf := func() *quota.QuotaConfig {
			_, resp := operator(t, m, testCodecs[1], &master.Call{Type: master.Call_GET_QUOTA})
			for _, cfg := range resp.GetGetQuota().GetStatus().Configs {
				if cfg.Role == role {
					return &cfg
				}
			}
			return nil
		}
		cfg := configOf()
		if cfg == nil || cfg.Limits["cpus"].Value != 0.5 || cfg.Limits["mem"].Value != 256 || len(cfg.Guarantees) != 0 {
			t.Fatalf("GET_QUOTA for %s: got %+v, want limits cpus 0.5, mem 256 and no guarantee", role, cfg)
		}

		info := frameworkInfo("quota")
		info.Roles = []string{role}
		info.Capabilities = []mesos.FrameworkInfo_Capability{{Type: mesos.FrameworkInfo_Capability_MULTI_ROLE}}
		s := targetClient(t, m, c).subscribe(info)
		tg.track(s.fwID)
		// Offers of every agent until a second passes without one (the allocator may offer the
		// agents in separate events): together within the limit, the first at it.
		var cpus, mem float64
		n := 0
		for _, o := range s.offers(tg.wait(5 * time.Second)) {
			n++
			if got := o.AllocationInfo.GetRole(); got != role {
				t.Errorf("offer %s: allocation_info.role %q, want %q", o.ID.Value, got, role)
			}
			for _, r := range o.Resources {
				if got := r.AllocationInfo.GetRole(); got != role {
					t.Errorf("offer %s: resource %s allocated to %q, want %q", o.ID.Value, r.Name, got, role)
				}
				switch r.Name {
				case "cpus":
					cpus += r.GetScalar().GetValue()
				case "mem":
					mem += r.GetScalar().GetValue()
				}
			}
		}
		for {
			ev := s.next(time.Second)
			if ev == nil {
				break
			}
			if ev.Type == scheduler.Event_OFFERS {
				for _, o := range ev.Offers.Offers {
					n++
					for _, r := range o.Resources {
						switch r.Name {
						case "cpus":
							cpus += r.GetScalar().GetValue()
						case "mem":
							mem += r.GetScalar().GetValue()
						}
					}
				}
			}
		}
		if n == 0 || math.Abs(cpus-0.5) > 1e-6 || math.Abs(mem-256) > 1e-6 {
			t.Errorf("offers to the role: %d holding cpus %g, mem %g; want them to hold the limit, cpus 0.5, mem 256", n, cpus, mem)
		}

		_, roles := operator(t, m, testCodecs[1], &master.Call{Type: master.Call_GET_ROLES})
		found := false
		for _, r := range roles.GetGetRoles().Roles {
			if r.Name == role {
				found = len(r.Frameworks) == 1 && r.Frameworks[0].Value == s.fwID
			}
		}
		if !found {
			t.Errorf("GET_ROLES: no role %s with framework %s in %+v", role, s.fwID, roles.GetGetRoles().Roles)
		}

		if code, out := setQuota(quota.QuotaConfig{Role: role}); code != http.StatusOK {
			t.Fatalf("UPDATE_QUOTA removing it: got %d %q, want 200", code, out)
		}
		// The role is listed with the default quota (the real master keeps it), or not at all.
		if cfg := configOf(); cfg != nil && (len(cfg.Limits) != 0 || len(cfg.Guarantees) != 0) {
			t.Errorf("GET_QUOTA after removing it: %+v", cfg)
		}
	})
}

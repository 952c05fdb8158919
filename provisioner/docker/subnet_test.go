package docker

import (
	"net/netip"
	"strings"
	"testing"
)

func TestSubnetPool(t *testing.T) {
	for _, tt := range []struct {
		env, want, err string
	}{
		{"", DefaultSubnetPool, ""},
		{"10.99.0.0/16", "10.99.0.0/16", ""},
		{" 10.99.7.9/20 ", "10.99.0.0/20", ""}, // masked
		{"10.99.0.0/23", "10.99.0.0/23", ""},
		{"10.99.0.0/24", "", "not an IPv4 range of /23 or larger"},
		{"fd00::/64", "", "not an IPv4 range"},
		{"ten", "", `ENVCTL_SUBNET_POOL="ten"`},
	} {
		t.Setenv(SubnetPoolVar, tt.env)
		got, err := subnetPool()
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want one with %q", tt.env, err, tt.err)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("%q: got %v, %v; want %s", tt.env, got, err, tt.want)
		}
	}
}

func TestFreeSubnets(t *testing.T) {
	pool := netip.MustParsePrefix("10.213.0.0/21") // four /23s
	pfx := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	for _, tt := range []struct {
		name string
		used []netip.Prefix
		want string
	}{
		{"empty engine", nil, "10.213.0.0/23 10.213.2.0/23 10.213.4.0/23 10.213.6.0/23"},
		{"one taken exactly", pfx("10.213.2.0/23"), "10.213.0.0/23 10.213.4.0/23 10.213.6.0/23"},
		{"a smaller network inside one", pfx("10.213.5.128/25"), "10.213.0.0/23 10.213.2.0/23 10.213.6.0/23"},
		{"a larger network over all", pfx("10.0.0.0/8"), ""},
		{"unrelated networks", pfx("172.17.0.0/16", "192.168.0.0/20"), "10.213.0.0/23 10.213.2.0/23 10.213.4.0/23 10.213.6.0/23"},
	} {
		var got []string
		for _, p := range freeSubnets(pool, tt.used) {
			got = append(got, p.String())
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, strings.Join(got, " "), tt.want)
		}
	}
}

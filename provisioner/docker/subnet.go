package docker

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/docker/docker/api/types/network"
)

// SubnetPoolVar names the environment variable that sets where envctl carves environment
// networks from once the engine's own address pools are used up.
const SubnetPoolVar = "ENVCTL_SUBNET_POOL"

// DefaultSubnetPool is that range when the variable is unset: private (RFC 1918), outside
// Docker's default pools (172.17-31.0.0/16 and 192.168.0.0/16), and rarely a LAN's.
const DefaultSubnetPool = "10.213.0.0/16"

// ownSubnetBits is the size of a subnet envctl picks: /23, 510 addresses, more containers than
// one environment has on one engine; a /16 pool holds 128 environments.
const ownSubnetBits = 23

// poolsUsedUp tells whether a network create failed because the engine has no address range
// left to give (its message since Engine 1.x).
func poolsUsedUp(err error) bool {
	return err != nil && strings.Contains(err.Error(), "non-overlapping IPv4 address pool")
}

// subnetPool reads SubnetPoolVar.
func subnetPool() (netip.Prefix, error) {
	v := strings.TrimSpace(os.Getenv(SubnetPoolVar))
	if v == "" {
		v = DefaultSubnetPool
	}
	p, err := netip.ParsePrefix(v)
	if err != nil || !p.Addr().Is4() || p.Bits() > ownSubnetBits {
		return netip.Prefix{}, fmt.Errorf("%s=%q is not an IPv4 range of /%d or larger, like %s", SubnetPoolVar, v, ownSubnetBits, DefaultSubnetPool)
	}
	return p.Masked(), nil
}

// freeSubnets returns the /ownSubnetBits subnets of pool that overlap none of used, in order.
func freeSubnets(pool netip.Prefix, used []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	step := uint32(1) << (32 - ownSubnetBits)
	base := pool.Addr().As4()
	start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	n := uint32(1) << (ownSubnetBits - pool.Bits())
	for i := uint32(0); i < n; i++ {
		a := start + i*step
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), ownSubnetBits)
		free := true
		for _, u := range used {
			if cand.Overlaps(u) {
				free = false
				break
			}
		}
		if free {
			out = append(out, cand)
		}
	}
	return out
}

// createInOwnSubnet creates env's network in the first subnet of the pool that no network on
// the engine uses. Another process may take the same subnet at the same moment: the engine
// refuses the second, which then tries the next.
func (b *Backend) createInOwnSubnet(ctx context.Context, env string, labels map[string]string) (network.CreateResponse, error) {
	pool, err := subnetPool()
	if err != nil {
		return network.CreateResponse{}, err
	}
	var nets []network.Summary
	if err := call(ctx, func(ctx context.Context) (err error) {
		nets, err = b.api.NetworkList(ctx, network.ListOptions{})
		return err
	}); err != nil {
		return network.CreateResponse{}, fmt.Errorf("list networks: %w", err)
	}
	var used []netip.Prefix
	for _, n := range nets {
		for _, c := range n.IPAM.Config {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil {
				used = append(used, p)
			}
		}
	}
	for _, sub := range freeSubnets(pool, used) {
		var created network.CreateResponse
		err := call(ctx, func(ctx context.Context) (err error) {
			created, err = b.api.NetworkCreate(ctx, networkName(env), network.CreateOptions{
				Driver: "bridge",
				Labels: envLabels(env, labels),
				IPAM:   &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: sub.String()}}},
			})
			return err
		})
		if err != nil && strings.Contains(err.Error(), "overlaps") {
			continue // taken meanwhile
		}
		return created, err
	}
	return network.CreateResponse{}, fmt.Errorf("%s (%s) has no free /%d subnet left", SubnetPoolVar, pool, ownSubnetBits)
}

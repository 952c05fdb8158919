package envgen

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
)

// Realistic writes an environment of n services: a random DAG (seeded by n, so every run
// measures the same file) where each service has about three edges, half through depends_on
// and half through service.X.host references in env, plus realistic attributes (an image
// template, two ports, a sensitive variable, an http ready block).
func Realistic(n int) string {
	r := rand.New(rand.NewSource(int64(n)))
	var b strings.Builder
	b.WriteString("environment {\n  name = \"bench\"\n  ttl  = \"4h\"\n}\n\n")
	b.WriteString("variable \"tag\" {\n  type    = string\n  default = \"v1\"\n}\n\n")
	b.WriteString("variable \"password\" {\n  type      = string\n  default   = \"secret\"\n  sensitive = true\n}\n\n")
	b.WriteString("locals {\n  registry = \"registry.local\"\n}\n\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "service \"svc-%d\" {\n", i)
		fmt.Fprintf(&b, "  image = \"${local.registry}/svc-%d:${var.tag}\"\n", i)
		b.WriteString("  ports = { http = 8080, admin = 9090 }\n")
		var deps, refs []int
		if i > 0 {
			for k := 0; k < 3; k++ {
				j := r.Intn(i)
				if k%2 == 0 {
					deps = append(deps, j)
				} else {
					refs = append(refs, j)
				}
			}
		}
		if len(deps) > 0 {
			parts := make([]string, len(deps))
			for k, j := range deps {
				parts[k] = "service.svc-" + strconv.Itoa(j)
			}
			fmt.Fprintf(&b, "  depends_on = [%s]\n", strings.Join(parts, ", "))
		}
		b.WriteString("  env = {\n    LOG_LEVEL = \"info\"\n    PASSWORD  = var.password\n")
		for k, j := range refs {
			fmt.Fprintf(&b, "    DEP_%d = \"http://${service.svc-%d.host}:${service.svc-%d.ports.http}\"\n", k, j, j)
		}
		b.WriteString("  }\n")
		b.WriteString("  ready {\n    http {\n      port = \"admin\"\n      path = \"/healthz\"\n    }\n    timeout = \"30s\"\n  }\n")
		b.WriteString("}\n\n")
	}
	return b.String()
}

package envs

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// maxDNSLabel is the length limit of one DNS label (RFC 1123): container names and network
// aliases are DNS labels, so service and environment names obey it.
const maxDNSLabel = 63

var dnsLabelRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// portNameRe is the rule for port names: they become parts of environment variable names and
// labels, so they stay lowercase and simple.
var portNameRe = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

const dnsRule = `lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters`

// validDNSLabel reports whether s is a DNS-safe name of at most 63 characters.
func validDNSLabel(s string) bool {
	return len(s) <= maxDNSLabel && dnsLabelRe.MatchString(s)
}

// DNSName makes s DNS-safe the way users expect of a name: lowercase; any other characters
// become "-", a run of them one "-"; trimmed of "-" and cut to 63 characters. It returns ""
// when nothing is left. The compose importer uses it for service and project names.
func DNSName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > maxDNSLabel {
		out = strings.Trim(out[:maxDNSLabel], "-")
	}
	return out
}

// sanitizeName turns a directory name into a DNS-safe environment name (DNSName), or
// "envctl" when nothing is left.
func sanitizeName(s string) string {
	if out := DNSName(s); out != "" {
		return out
	}
	return "envctl"
}

// suggest returns the candidate nearest to name when it is close enough to be a likely typo,
// else "". Ties go to the earlier candidate, so the answer is deterministic.
func suggest(name string, candidates []string) string {
	best, bestDist := "", 4 // distance up to 3 counts as a typo
	for _, c := range candidates {
		d := editDistance(name, c)
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// didYouMean formats suggest's answer as a sentence to append to a detail, or "".
func didYouMean(name string, candidates []string) string {
	if s := suggest(name, candidates); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in runes. O(len(a)*len(b)) time,
// O(len(b)) space; only called on the error path.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// quotedList renders names as `"a", "b" and "c"` for details; sorted when sortIt is set.
func quotedList(names []string, sortIt bool) string {
	if sortIt {
		names = append([]string(nil), names...)
		sort.Strings(names)
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	switch len(q) {
	case 0:
		return ""
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}

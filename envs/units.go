package envs

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const durationHelp = `Write a number with a unit, like "90s", "1m30s", "4h" or "2d" (units: ms, s, m, h, d).`

var dayPrefixRe = regexp.MustCompile(`^(\d+)d(.*)$`)

// parseDuration accepts Go durations ("1m30s", "4h") plus a leading day count ("2d",
// "1d12h"), since TTLs are naturally written in days. Negative and zero are rejected: every
// duration in the file is a timeout, interval or lifetime.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	rest := s
	if m := dayPrefixRe.FindStringSubmatch(s); m != nil {
		days, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || days > 100000 {
			return 0, fmt.Errorf("%q is not a duration. %s", s, durationHelp)
		}
		d = time.Duration(days) * 24 * time.Hour
		rest = m[2]
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration. %s", s, durationHelp)
		}
		d += r
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration. %s", s, durationHelp)
	}
	return d, nil
}

const sizeHelp = `Write a whole number of bytes or a number with a unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), like "256MiB" or "1GB".`

var sizeRe = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$`)

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20,
	"gi": 1 << 30, "gib": 1 << 30, "ti": 1 << 40, "tib": 1 << 40,
}

// parseSize parses a memory size into bytes. Units are case-insensitive, which makes "mb"
// mean megabytes: nobody limits memory in millibytes.
func parseSize(s string) (int64, error) {
	m := sizeRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size. %s", s, sizeHelp)
	}
	mult, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit %q. %s", s, m[2], sizeHelp)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size. %s", s, sizeHelp)
	}
	b := n * mult
	if b < 1 || b > math.MaxInt64/2 || b != math.Trunc(b) {
		return 0, fmt.Errorf("%q is not a whole, positive number of bytes. %s", s, sizeHelp)
	}
	return int64(b), nil
}

package cli

import (
	"os"
	"time"
)

// envNow names the environment variable that sets envctl's clock.
const envNow = "ENVCTL_NOW"

// clockNow is envctl's clock for everything that decides expiry: the expiry label up writes, the
// sweep at the start of up, gc, ls and down --expired. ENVCTL_NOW=RFC3339 replaces the wall
// clock. It exists for tests, which must not sleep for a TTL, and for operators checking what
// gc would do at some moment (ENVCTL_NOW=2030-01-01T00:00:00Z envctl gc --dry-run). It is read
// here alone so that every command agrees on the time; checkClock has rejected a malformed
// value before any command runs, so the fallback below is never reached with one.
func clockNow() time.Time {
	if v := os.Getenv(envNow); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t
		}
	}
	return time.Now()
}

// checkClock rejects a malformed ENVCTL_NOW as a usage error: a typo must not silently fall
// back to the wall clock and remove (or keep) the wrong environments.
func checkClock() error {
	if v := os.Getenv(envNow); v != "" {
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return usageErr("%s=%q: want an RFC 3339 time such as 2030-01-02T15:04:05Z", envNow, v)
		}
	}
	return nil
}

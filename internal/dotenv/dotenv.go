package dotenv

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Pair is one KEY=VALUE line.
type Pair struct {
	Key, Value string
	Line       int // 1-based
}

// Error is a line that is not KEY=VALUE.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

var keyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// Parse reads src. Blank lines and lines starting with "#" are skipped; "export " before a key
// is allowed; a value may be 'single-quoted' (literal), "double-quoted" (with \n, \t, \" and
// \\ escapes, possibly over several lines) or bare (trimmed, and a " #" starts a comment). A
// key without "=" is an error: Compose would take the value from the shell, which envctl
// deliberately does not read. A later line for the same key wins, as in Compose.
func Parse(src []byte) ([]Pair, error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")) // a BOM from Windows editors
	var out []Pair
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimSuffix(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{Line: len(lines) + 1, Msg: err.Error()}
	}
	for i := 0; i < len(lines); i++ {
		n := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok {
			return nil, &Error{Line: n, Msg: fmt.Sprintf("%q has no \"=\"; write KEY=VALUE", k)}
		}
		if !keyRe.MatchString(k) {
			return nil, &Error{Line: n, Msg: fmt.Sprintf("%q is not a variable name (letters, digits and \"_\", not starting with a digit)", k)}
		}
		v = strings.TrimLeft(v, " \t")
		switch {
		case strings.HasPrefix(v, "'"):
			end := strings.Index(v[1:], "'")
			if end < 0 {
				return nil, &Error{Line: n, Msg: "the single quote is not closed on this line"}
			}
			v = v[1 : 1+end]
		case strings.HasPrefix(v, `"`):
			val, used, ok := doubleQuoted(v[1:], lines[i+1:])
			if !ok {
				return nil, &Error{Line: n, Msg: "the double quote is never closed"}
			}
			v, i = val, i+used
		default:
			if j := strings.Index(v, " #"); j >= 0 {
				v = v[:j]
			}
			v = strings.TrimSpace(v)
		}
		out = append(out, Pair{Key: k, Value: v, Line: n})
	}
	return out, nil
}

// doubleQuoted reads a double-quoted value that starts in first and may go on in more; used
// is how many of more it took.
func doubleQuoted(first string, more []string) (string, int, bool) {
	var b strings.Builder
	s := first
	for used := 0; ; used++ {
		for j := 0; j < len(s); j++ {
			c := s[j]
			switch {
			case c == '\\' && j+1 < len(s):
				j++
				switch s[j] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				default:
					b.WriteByte(s[j])
				}
			case c == '"':
				return b.String(), used, true
			default:
				b.WriteByte(c)
			}
		}
		if used >= len(more) {
			return "", 0, false
		}
		b.WriteByte('\n')
		s = more[used]
	}
}

// Map returns the pairs as a map; a later key wins.
func Map(pairs []Pair) map[string]string {
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		m[p.Key] = p.Value
	}
	return m
}

package compose

import (
	"fmt"
	"strings"
)

// parseDotenv reads a .env file as Compose does for interpolation: KEY=VALUE lines, blank
// lines and # comments skipped, an optional "export " prefix, values unquoted ('...' literal,
// "..." with \n, \t, \\ and \" escapes) or bare (trimmed, a " #" starting a comment). Variable
// references inside values are kept as written.
func parseDotenv(name string, src []byte) (map[string]string, []string, error) {
	out := map[string]string{}
	var order []string
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.ContainsAny(key, " \t") {
			return nil, nil, &Error{File: name, Line: i + 1, Message: fmt.Sprintf("want KEY=VALUE, got %q", line)}
		}
		val = strings.TrimLeft(val, " \t")
		switch {
		case strings.HasPrefix(val, "'"):
			end := strings.Index(val[1:], "'")
			for end < 0 && i+1 < len(lines) {
				i++
				val += "\n" + lines[i]
				end = strings.Index(val[1:], "'")
			}
			if end < 0 {
				return nil, nil, &Error{File: name, Line: i + 1, Message: "a single quote is not closed"}
			}
			val = val[1 : 1+end]
		case strings.HasPrefix(val, `"`):
			var b strings.Builder
			closed := false
			for !closed {
				for j := 1; j < len(val); j++ {
					ch := val[j]
					if ch == '\\' && j+1 < len(val) {
						j++
						switch val[j] {
						case 'n':
							b.WriteByte('\n')
						case 't':
							b.WriteByte('\t')
						default:
							b.WriteByte(val[j])
						}
						continue
					}
					if ch == '"' {
						closed = true
						break
					}
					b.WriteByte(ch)
				}
				if closed || i+1 >= len(lines) {
					break
				}
				i++
				b.WriteByte('\n')
				val = `"` + lines[i]
			}
			if !closed {
				return nil, nil, &Error{File: name, Line: i + 1, Message: "a double quote is not closed"}
			}
			val = b.String()
		default:
			if j := strings.Index(val, " #"); j >= 0 {
				val = val[:j]
			}
			val = strings.TrimSpace(val)
		}
		if _, seen := out[key]; !seen {
			order = append(order, key)
		}
		out[key] = val
	}
	return out, order, nil
}

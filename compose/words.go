package compose

import (
	"errors"
	"strings"
)

// splitWords splits the string form of command and entrypoint into argv the way Compose does:
// POSIX shell quoting and word splitting, and nothing else — no shell runs, no variables or
// globs are expanded (Compose's own ${VAR} interpolation has happened before).
//
//   - blanks (space, tab, newline) separate words;
//   - '...' is literal;
//   - "..." is literal except that \ escapes \, ", $, ` and newline;
//   - outside quotes, \ escapes the next character, and \ before a newline joins lines.
func splitWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case ch == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("a trailing backslash escapes nothing")
			}
			i++
			if s[i] != '\n' {
				w.WriteByte(s[i])
				inWord = true
			}
		case ch == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("a single quote is not closed")
			}
			w.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inWord = true
		case ch == '"':
			closed := false
			for i++; i < len(s); i++ {
				c := s[i]
				if c == '"' {
					closed = true
					break
				}
				if c == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`\n", s[i+1]) >= 0 {
					i++
					if s[i] != '\n' {
						w.WriteByte(s[i])
					}
					continue
				}
				w.WriteByte(c)
			}
			if !closed {
				return nil, errors.New("a double quote is not closed")
			}
			inWord = true
		case ch == '$' && i+1 < len(s) && s[i+1] == '{':
			// Compose interpolates before it splits, so ${VAR:-a b} is one piece: keep it
			// whole for interpolate, which runs on each word.
			end := matchBrace(s, i+1)
			if end < 0 {
				return nil, errors.New("${ is not closed")
			}
			w.WriteString(s[i : end+1])
			i = end
			inWord = true
		default:
			w.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

package protocol

import (
	"bufio"
	"io"
	"strings"
)

// checkMemcached asks `version`, the cheapest command of the text protocol: `VERSION x` is
// ready.
func checkMemcached(rw io.ReadWriter) (bool, string, error) {
	if _, err := io.WriteString(rw, "version\r\n"); err != nil {
		return false, "", err
	}
	return readMemcached(bufio.NewReaderSize(rw, 256))
}

func readMemcached(r *bufio.Reader) (bool, string, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return false, "not a memcached answer (a line longer than 256 bytes)", nil
		}
		if err == io.EOF {
			if len(line) == 0 {
				return false, "", short("the server closed the connection before it answered version")
			}
			return false, "", short("the server closed the connection in the middle of its answer %q", printable(string(line)))
		}
		return false, "", err
	}
	s := strings.TrimRight(string(line), "\r\n")
	if strings.HasPrefix(s, "VERSION ") {
		return true, printable(s), nil
	}
	return false, "version answered " + printable(s), nil
}

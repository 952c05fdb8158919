package protocol

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// checkRedis sends AUTH (when a password is given) and PING in one write and reads the
// answers. +PONG is ready. An error reply is not ready and is quoted: -LOADING (the dataset is
// being read), -MASTERDOWN (a replica without its master), -BUSY (a script runs), -NOAUTH,
// -WRONGPASS, -DENIED (protected mode). A server with requirepass answers NOAUTH before it
// would say LOADING, so without the password a probe cannot tell a loading server from a ready
// one: -NOAUTH is not ready, and the detail says to give the password.
func checkRedis(rw io.ReadWriter, p Params) (bool, string, error) {
	var req strings.Builder
	if p.Password != "" {
		fmt.Fprintf(&req, "*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(p.Password), p.Password)
	}
	req.WriteString("*1\r\n$4\r\nPING\r\n")
	if _, err := io.WriteString(rw, req.String()); err != nil {
		return false, "", err
	}
	return readRedis(bufio.NewReaderSize(rw, 512), p.Password != "")
}

func readRedis(r *bufio.Reader, auth bool) (bool, string, error) {
	if auth {
		line, err := respLine(r)
		if err != nil {
			return false, "", err
		}
		// A server without a password refuses AUTH ("called without any password
		// configured") and serves everyone: PING decides.
		if line != "+OK" && !strings.Contains(line, "without any password configured") {
			return false, "AUTH: " + line, nil
		}
	}
	line, err := respLine(r)
	if err != nil {
		return false, "", err
	}
	switch {
	case line == "+PONG":
		return true, "PONG", nil
	case strings.HasPrefix(line, "-NOAUTH"):
		return false, line + " (give the redis probe the server's password)", nil
	case strings.HasPrefix(line, "-"):
		return false, line, nil
	}
	return false, "PING answered " + line, nil
}

// respLine reads one RESP line (a simple string or an error), at most 4 KiB.
func respLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			if err == io.EOF {
				if len(b) == 0 {
					return "", short("the server closed the connection before it answered PING")
				}
				return "", short("the server closed the connection in the middle of its answer %q", printable(string(b)))
			}
			return "", err
		}
		if c == '\n' {
			break
		}
		if len(b) >= 4096 {
			return "", short("not a Redis answer (a line longer than 4 KiB)")
		}
		b = append(b, c)
	}
	line := strings.TrimSuffix(string(b), "\r")
	if line == "" || !strings.ContainsRune("+-:$*_,#!=(%~>|", rune(line[0])) {
		return "", short("not a Redis answer: %q", printable(line))
	}
	return printable(line), nil
}

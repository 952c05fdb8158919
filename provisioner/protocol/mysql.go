package protocol

import (
	"encoding/binary"
	"fmt"
	"io"
)

// checkMySQL reads the server's first packet. The initial handshake (protocol 10) is what
// every MySQL and MariaDB client waits for: ready. An ERR packet (1040 too many connections,
// 1129 host blocked, 1130 host not allowed to connect) turns every client away: not ready,
// quoted. MySQL's and MariaDB's images initialise on a server with networking off, so until the
// real server runs nothing answers at all.
func checkMySQL(r io.Reader) (bool, string, error) {
	var hdr [4]byte
	if err := readFull(r, hdr[:], "its greeting"); err != nil {
		return false, "", err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n == 0 || n > maxMessage {
		return false, fmt.Sprintf("not a MySQL greeting (packet of length %d)", n), nil
	}
	body := make([]byte, n)
	if err := readFull(r, body, "its greeting"); err != nil {
		return false, "", err
	}
	return parseMySQLGreeting(body)
}

func parseMySQLGreeting(body []byte) (bool, string, error) {
	switch body[0] {
	case 0x0a:
		ver := body[1:]
		for i, c := range ver {
			if c == 0 {
				ver = ver[:i]
				break
			}
		}
		return true, "handshake from " + printable(string(ver)), nil
	case 0xff:
		if len(body) < 3 {
			return false, "ERR (malformed)", nil
		}
		code := binary.LittleEndian.Uint16(body[1:3])
		msg := body[3:]
		if len(msg) >= 6 && msg[0] == '#' { // a SQL state, in later packets
			msg = msg[6:]
		}
		return false, fmt.Sprintf("ERR %d: %s", code, printable(string(msg))), nil
	}
	return false, fmt.Sprintf("not a MySQL greeting (protocol %d)", body[0]), nil
}

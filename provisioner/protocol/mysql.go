package protocol

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// checkMySQL reads the server's first packet. The initial handshake (protocol 10) is what
// every MySQL and MariaDB client waits for: ready. An ERR packet (1040 too many connections,
// 1129 host blocked, 1130 host not allowed to connect) turns every client away: not ready,
// quoted. MySQL's and MariaDB's images initialise on a server with networking off, so until the
// real server runs nothing answers at all.
//
// After a greeting the probe does not just hang up: the server counts a connection dropped in
// the middle of its handshake against the client's host, and after max_connect_errors (100)
// of them it blocks that host — the address every client from envctl's machine comes from —
// until someone runs FLUSH HOSTS (seen on MariaDB 10.11 after 100 probes). So the probe
// finishes the handshake as mysqladmin ping does: it logs in as a user that does not exist,
// with no password, which the server refuses without counting it as such an error (a failed
// login is an authentication error, not a handshake error), and says goodbye if it is let in.
func checkMySQL(rw io.ReadWriter) (bool, string, error) {
	seq, n, body, err := readMySQLPacket(rw, "its greeting")
	if err != nil {
		return false, "", err
	}
	if body == nil {
		return false, fmt.Sprintf("not a MySQL greeting (packet of length %d)", n), nil
	}
	ok, detail, err := parseMySQLGreeting(body)
	if ok {
		mysqlLogin(rw, seq+1, greetingPlugin(body))
	}
	return ok, detail, err
}

// readMySQLPacket reads one packet: its sequence id, its declared length and its payload, which
// is nil when the length is 0 or over maxMessage (garbage that looks like a huge length is
// not read, let alone allocated).
func readMySQLPacket(r io.Reader, what string) (seq byte, n int, body []byte, err error) {
	var hdr [4]byte
	if err := readFull(r, hdr[:], what); err != nil {
		return 0, 0, nil, err
	}
	n = int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n == 0 || n > maxMessage {
		return hdr[3], n, nil, nil
	}
	body = make([]byte, n)
	if err := readFull(r, body, what); err != nil {
		return 0, n, nil, err
	}
	return hdr[3], n, body, nil
}

func mysqlFrame(seq byte, payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}

// mysqlProbeUser is the user the probe logs in as: one that no server has.
const mysqlProbeUser = "envctl-probe-nobody"

// mysqlLogin completes the handshake after the greeting (see checkMySQL). It decides nothing:
// the greeting did. It gives the server a second at most, so a server that never answers the
// login costs the attempt no more than that.
func mysqlLogin(rw io.ReadWriter, seq byte, plugin string) {
	if d, ok := rw.(interface{ SetDeadline(time.Time) error }); ok {
		_ = d.SetDeadline(time.Now().Add(time.Second))
	}
	const (
		clientLongPassword   = 0x00000001
		clientProtocol41     = 0x00000200
		clientSecureConn     = 0x00008000
		clientPluginAuth     = 0x00080000
		utf8mb4GeneralCI     = 45
		maxPacket            = 1 << 24
		comQuit              = 0x01
		packetOK, packetAuth = 0x00, 0xfe
	)
	var p []byte
	p = binary.LittleEndian.AppendUint32(p, clientLongPassword|clientProtocol41|clientSecureConn|clientPluginAuth)
	p = binary.LittleEndian.AppendUint32(p, maxPacket)
	p = append(p, utf8mb4GeneralCI)
	p = append(p, make([]byte, 23)...)
	p = append(append(p, mysqlProbeUser...), 0)
	p = append(p, 0) // no auth response: an empty password
	p = append(append(p, plugin...), 0)
	if _, err := rw.Write(mysqlFrame(seq, p)); err != nil {
		return
	}
	// The answer: ERR (the usual), OK (a server that lets anyone in), or an auth switch to
	// another plugin, answered again with an empty password.
	for range 3 {
		s, _, body, err := readMySQLPacket(rw, "its answer to the login")
		if err != nil || len(body) == 0 {
			return
		}
		switch body[0] {
		case packetOK:
			_, _ = rw.Write(mysqlFrame(0, []byte{comQuit}))
			return
		case packetAuth:
			if _, err := rw.Write(mysqlFrame(s+1, nil)); err != nil {
				return
			}
		default: // ERR, or more auth data that an empty password cannot answer
			return
		}
	}
}

// greetingPlugin is the authentication plugin a protocol-10 greeting names, or
// mysql_native_password for a server too old to name one.
func greetingPlugin(g []byte) string {
	const native = "mysql_native_password"
	i := bytes.IndexByte(g, 0) // after the server's version
	if i < 0 {
		return native
	}
	rest := g[i+1:]
	// connection id (4), auth data part 1 (8), filler (1), capabilities (2), charset (1),
	// status (2), capabilities (2), auth data length (1), reserved (10).
	const fixed = 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
	if len(rest) < fixed {
		return native
	}
	caps := uint32(binary.LittleEndian.Uint16(rest[13:15])) | uint32(binary.LittleEndian.Uint16(rest[18:20]))<<16
	if caps&0x00080000 == 0 { // CLIENT_PLUGIN_AUTH
		return native
	}
	part2 := max(13, int(rest[20])-8)
	rest = rest[fixed:]
	if len(rest) < part2 {
		return native
	}
	name := rest[part2:]
	if j := bytes.IndexByte(name, 0); j >= 0 {
		name = name[:j]
	}
	if len(name) == 0 || len(name) > 64 {
		return native
	}
	return string(name)
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

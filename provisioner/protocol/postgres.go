package protocol

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// checkPostgres sends a StartupMessage (protocol 3.0) and reads the first answer that says
// something. An authentication request of any kind (or AuthenticationOk) means the server
// accepts logins: ready. An ErrorResponse of class 57 (operator intervention: 57P03 starting
// up, shutting down, in recovery, not yet accepting connections) or 53 (insufficient
// resources: too many clients) means a client would be turned away now: not ready. Any other
// error (3D000 no such database, 28000/28P01 a refused login) comes from a server that
// processes logins and refuses this one for the client's settings: the server is usable, so it
// is ready, and the detail says what a client with those settings would hear.
func checkPostgres(rw io.ReadWriter, p Params) (bool, string, error) {
	user, db := p.User, p.Database
	if user == "" {
		user = "postgres"
	}
	if db == "" {
		db = "postgres"
	}
	if _, err := rw.Write(startupMessage(user, db)); err != nil {
		return false, "", err
	}
	return readPostgres(rw)
}

func startupMessage(user, db string) []byte {
	var body []byte
	body = binary.BigEndian.AppendUint32(body, 3<<16) // protocol 3.0
	for _, kv := range [][2]string{{"user", user}, {"database", db}, {"application_name", "envctl-probe"}} {
		body = append(body, kv[0]...)
		body = append(body, 0)
		body = append(body, kv[1]...)
		body = append(body, 0)
	}
	body = append(body, 0)
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	return append(msg, body...)
}

// readPostgres reads the server's messages up to the first that decides.
func readPostgres(r io.Reader) (bool, string, error) {
	for range 8 { // NegotiateProtocolVersion and notices may come first; a few at most
		var hdr [5]byte
		if err := readFull(r, hdr[:], "an answer to the startup message"); err != nil {
			return false, "", err
		}
		typ, n := hdr[0], binary.BigEndian.Uint32(hdr[1:])
		if n < 4 || n-4 > maxMessage {
			return false, fmt.Sprintf("not a PostgreSQL answer (message %q of length %d)", typ, n), nil
		}
		body := make([]byte, n-4)
		if err := readFull(r, body, fmt.Sprintf("message %q", typ)); err != nil {
			return false, "", err
		}
		switch typ {
		case 'R':
			if len(body) < 4 {
				return false, "a malformed authentication request", nil
			}
			return true, authName(binary.BigEndian.Uint32(body)), nil
		case 'E':
			f := errorFields(body)
			code := f['C']
			sev := f['V']
			if sev == "" {
				sev = f['S']
			}
			msg := fmt.Sprintf("%s %s: %s", sev, code, printable(f['M']))
			if strings.HasPrefix(code, "57") || strings.HasPrefix(code, "53") {
				return false, msg, nil
			}
			return true, "the server processes logins (" + msg + ")", nil
		case 'N', 'v', 'S', 'K':
			continue // a notice, a protocol downgrade, parameters: the decision comes later
		default:
			return false, fmt.Sprintf("not a PostgreSQL answer (message type %q)", typ), nil
		}
	}
	return false, "no authentication request among the server's first messages", nil
}

func authName(code uint32) string {
	switch code {
	case 0:
		return "AuthenticationOk (trusted)"
	case 3:
		return "asks for a password (cleartext)"
	case 5:
		return "asks for a password (MD5)"
	case 7:
		return "asks for GSSAPI authentication"
	case 9:
		return "asks for SSPI authentication"
	case 10:
		return "asks for SASL authentication (SCRAM)"
	}
	return fmt.Sprintf("asks for authentication (method %d)", code)
}

// errorFields reads an ErrorResponse's fields: a type byte, then a NUL-terminated string.
func errorFields(b []byte) map[byte]string {
	f := map[byte]string{}
	for len(b) > 1 && b[0] != 0 {
		t := b[0]
		end := 1
		for end < len(b) && b[end] != 0 {
			end++
		}
		f[t] = string(b[1:end])
		if end >= len(b) {
			break
		}
		b = b[end+1:]
	}
	return f
}

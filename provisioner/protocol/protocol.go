package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// The protocols, named as in a ready block.
const (
	Postgres  = "postgres"
	MySQL     = "mysql"
	Redis     = "redis"
	AMQP      = "amqp"
	Memcached = "memcached"
	GRPC      = "grpc"
	Kafka     = "kafka"
	MongoDB   = "mongodb"
)

// Kinds lists every protocol.
var Kinds = []string{Postgres, MySQL, Redis, AMQP, Memcached, GRPC, Kafka, MongoDB}

// Params is what a check needs besides the connection.
type Params struct {
	Kind     string `json:"kind"`
	User     string `json:"user,omitempty"`     // postgres; "" means "postgres"
	Database string `json:"database,omitempty"` // postgres; "" means "postgres"
	Password string `json:"password,omitempty"` // redis AUTH; travels only to the probe agent's stdin
	Service  string `json:"service,omitempty"`  // grpc: the health service name; "" is the server
}

// maxMessage bounds any length a server's answer declares: a check reads no more than this,
// so that garbage that looks like a huge length cannot make it allocate or wait for it.
const maxMessage = 64 << 10

// Check runs p's protocol check over conn, which it closes. ok is true when the server would
// serve a client now; detail is what it answered, for a person.
func Check(ctx context.Context, conn net.Conn, p Params) (ok bool, detail string) {
	defer conn.Close()
	if dl, has := ctx.Deadline(); has {
		_ = conn.SetDeadline(dl)
	}
	// A cancelled context (not only a deadline) ends a blocked read too.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var err error
	switch p.Kind {
	case Postgres:
		ok, detail, err = checkPostgres(conn, p)
	case MySQL:
		ok, detail, err = checkMySQL(conn)
	case Redis:
		ok, detail, err = checkRedis(conn, p)
	case AMQP:
		ok, detail, err = checkAMQP(conn)
	case Memcached:
		ok, detail, err = checkMemcached(conn)
	case GRPC:
		return checkGRPC(ctx, conn, p)
	case Kafka:
		ok, detail, err = checkKafka(conn)
	case MongoDB:
		ok, detail, err = checkMongo(conn)
	default:
		return false, fmt.Sprintf("unknown protocol %q", p.Kind)
	}
	if err != nil {
		return false, describeErr(err)
	}
	return ok, detail
}

// Probe dials addr and runs p's check: envctl's own process (and the probe agent) use it.
// err is set when no connection was made (refused, unreachable, timed out): the caller treats
// that as it treats a failed TCP dial.
func Probe(ctx context.Context, addr string, p Params) (ok bool, detail string, err error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false, "", err
	}
	ok, detail = Check(ctx, conn, p)
	return ok, detail, nil
}

// errShort says the server closed or cut the answer: what was read so far is in the message.
type errShort struct{ what string }

func (e *errShort) Error() string { return e.what }

func short(format string, args ...any) error { return &errShort{fmt.Sprintf(format, args...)} }

// describeErr turns a read or write error into a short detail.
func describeErr(err error) string {
	var s *errShort
	switch {
	case errors.As(err, &s):
		return s.what
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "no answer in time (timed out)"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the server closed the connection before it answered"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		if errors.Is(op.Err, os.ErrDeadlineExceeded) {
			return "no answer in time (timed out)"
		}
		return op.Err.Error()
	}
	return err.Error()
}

// readFull reads exactly len(b) bytes, naming what it was reading when the answer ends short.
func readFull(r io.Reader, b []byte, what string) error {
	n, err := io.ReadFull(r, b)
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if n == 0 {
			return short("the server closed the connection before it sent %s", what)
		}
		return short("the server closed the connection in the middle of %s (%d of %d bytes)", what, n, len(b))
	}
	return err
}

// printable quotes a server's text for a probe detail: one line, at most 200 characters.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

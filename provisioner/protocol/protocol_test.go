package protocol

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// fake serves each connection on a loopback listener with serve, and returns its address.
func fake(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return l.Addr().String()
}

// answer reads n bytes of the request (all of it when n < 0 means: whatever comes first),
// then writes the parts one at a time, so that the client sees partial reads.
func answer(n int, parts ...[]byte) func(net.Conn) {
	return func(c net.Conn) {
		if n > 0 {
			if _, err := io.ReadFull(c, make([]byte, n)); err != nil {
				return
			}
		} else if n < 0 {
			buf := make([]byte, 4096)
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
		for _, p := range parts {
			if _, err := c.Write(p); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond) // a separate segment: the client reads in parts
		}
	}
}

// hang reads the request and never answers (until the client goes).
func hang(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

func split(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 3 {
		out = append(out, b[:3])
		b = b[3:]
	}
	return append(out, b)
}

func pgMsg(typ byte, body []byte) []byte {
	return append(append([]byte{typ}, binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))...), body...)
}

func pgAuth(code uint32) []byte { return pgMsg('R', binary.BigEndian.AppendUint32(nil, code)) }

func pgError(sev, code, msg string) []byte {
	body := "S" + sev + "\x00V" + sev + "\x00C" + code + "\x00M" + msg + "\x00\x00"
	return pgMsg('E', []byte(body))
}

func mysqlPacket(body []byte) []byte {
	return append([]byte{byte(len(body)), byte(len(body) >> 8), byte(len(body) >> 16), 0}, body...)
}

func mysqlGreeting(ver string) []byte {
	b := append([]byte{0x0a}, ver...)
	b = append(b, 0, 1, 0, 0, 0) // NUL, connection id
	b = append(b, "12345678\x00"...)
	return mysqlPacket(b)
}

func mysqlErr(code uint16, msg string) []byte {
	return mysqlPacket(append(binary.LittleEndian.AppendUint16([]byte{0xff}, code), msg...))
}

func amqpFrame(class, method uint16, extra ...byte) []byte {
	payload := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, class), method)
	payload = append(payload, extra...)
	f := []byte{1, 0, 0}
	f = binary.BigEndian.AppendUint32(f, uint32(len(payload)))
	return append(append(f, payload...), 0xce)
}

func kafkaResp(corr uint32, code int16) []byte {
	b := binary.BigEndian.AppendUint32(nil, corr)
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	b = binary.BigEndian.AppendUint32(b, 0) // no APIs listed
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

// bsonDoc builds a document of int32, double and string elements, in the order given.
func bsonDoc(kv ...any) []byte {
	var b []byte
	for i := 0; i < len(kv); i += 2 {
		name := kv[i].(string)
		switch v := kv[i+1].(type) {
		case int:
			b = append(append(append(b, 0x10), name...), 0)
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		case float64:
			b = append(append(append(b, 0x01), name...), 0)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		case string:
			b = append(append(append(b, 0x02), name...), 0)
			b = binary.LittleEndian.AppendUint32(b, uint32(len(v)+1))
			b = append(append(b, v...), 0)
		case bool:
			x := byte(0)
			if v {
				x = 1
			}
			b = append(append(append(b, 0x08), name...), 0, x)
		}
	}
	b = append(b, 0)
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(b)+4)), b...)
}

func opMsgReply(doc []byte) []byte {
	var m []byte
	m = binary.LittleEndian.AppendUint32(m, uint32(16+4+1+len(doc)))
	m = binary.LittleEndian.AppendUint32(m, 99)
	m = binary.LittleEndian.AppendUint32(m, 1)
	m = binary.LittleEndian.AppendUint32(m, opMsg)
	m = binary.LittleEndian.AppendUint32(m, 0)
	m = append(m, 0)
	return append(m, doc...)
}

// mongoServer answers each OP_MSG it reads with the next of replies.
func mongoServer(replies ...[]byte) func(net.Conn) {
	return func(c net.Conn) {
		for _, r := range replies {
			var hdr [4]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			if _, err := io.ReadFull(c, make([]byte, binary.LittleEndian.Uint32(hdr[:])-4)); err != nil {
				return
			}
			c.Write(r)
		}
	}
}

func TestChecks(t *testing.T) {
	startup := len(startupMessage("postgres", "postgres"))
	tests := []struct {
		name   string
		p      Params
		serve  func(net.Conn)
		ok     bool
		detail string
	}{
		{"postgres scram", Params{Kind: Postgres}, answer(startup, pgAuth(10)), true, "asks for SASL authentication (SCRAM)"},
		{"postgres trust", Params{Kind: Postgres}, answer(startup, pgAuth(0), pgMsg('S', []byte("a\x00b\x00"))), true, "AuthenticationOk"},
		{"postgres md5 in pieces", Params{Kind: Postgres}, answer(startup, split(pgAuth(5))...), true, "MD5"},
		{"postgres starting up", Params{Kind: Postgres}, answer(startup, pgError("FATAL", "57P03", "the database system is starting up")), false, "FATAL 57P03: the database system is starting up"},
		{"postgres shutting down", Params{Kind: Postgres}, answer(startup, pgError("FATAL", "57P03", "the database system is shutting down")), false, "shutting down"},
		{"postgres too many clients", Params{Kind: Postgres}, answer(startup, pgError("FATAL", "53300", "sorry, too many clients already")), false, "FATAL 53300"},
		{"postgres no database", Params{Kind: Postgres, Database: "nope"}, answer(len(startupMessage("postgres", "nope")), pgError("FATAL", "3D000", `database "nope" does not exist`)), true, `the server processes logins (FATAL 3D000: database "nope" does not exist)`},
		{"postgres notice first", Params{Kind: Postgres}, answer(startup, pgMsg('N', []byte("SNOTICE\x00Mhi\x00\x00")), pgAuth(10)), true, "SCRAM"},
		{"postgres garbage", Params{Kind: Postgres}, answer(startup, []byte("HTTP/1.1 400 Bad Request\r\n\r\n")), false, "not a PostgreSQL answer"},
		{"postgres closes mid-message", Params{Kind: Postgres}, answer(startup, pgAuth(10)[:6]), false, "closed the connection in the middle of message 'R'"},
		{"postgres closes at once", Params{Kind: Postgres}, answer(startup), false, "closed the connection before it sent an answer"},
		{"postgres silent", Params{Kind: Postgres}, hang, false, "timed out"},

		{"mysql", Params{Kind: MySQL}, answer(0, mysqlGreeting("8.0.36")), true, "handshake from 8.0.36"},
		{"mariadb in pieces", Params{Kind: MySQL}, answer(0, split(mysqlGreeting("5.5.5-10.11.6-MariaDB-0+deb12u1"))...), true, "10.11.6-MariaDB"},
		{"mysql too many connections", Params{Kind: MySQL}, answer(0, mysqlErr(1040, "Too many connections")), false, "ERR 1040: Too many connections"},
		{"mysql host not allowed", Params{Kind: MySQL}, answer(0, mysqlErr(1130, "Host '172.18.0.1' is not allowed to connect to this MariaDB server")), false, "ERR 1130: Host"},
		{"mysql other protocol", Params{Kind: MySQL}, answer(0, mysqlPacket([]byte{9, 'x'})), false, "not a MySQL greeting (protocol 9)"},
		{"mysql closes", Params{Kind: MySQL}, answer(0, mysqlGreeting("8.0")[:7]), false, "in the middle of its greeting"},
		{"mysql silent", Params{Kind: MySQL}, hang, false, "timed out"},

		{"redis", Params{Kind: Redis}, answer(14, []byte("+PONG\r\n")), true, "PONG"},
		{"redis in pieces", Params{Kind: Redis}, answer(14, []byte("+PO"), []byte("NG\r"), []byte("\n")), true, "PONG"},
		{"redis loading", Params{Kind: Redis}, answer(14, []byte("-LOADING Redis is loading the dataset in memory\r\n")), false, "-LOADING Redis is loading the dataset in memory"},
		{"redis masterdown", Params{Kind: Redis}, answer(14, []byte("-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n")), false, "-MASTERDOWN"},
		{"redis busy", Params{Kind: Redis}, answer(14, []byte("-BUSY Redis is busy running a script.\r\n")), false, "-BUSY"},
		{"redis noauth", Params{Kind: Redis}, answer(14, []byte("-NOAUTH Authentication required.\r\n")), false, "-NOAUTH Authentication required. (give the redis probe the server's password)"},
		{"redis auth then pong", Params{Kind: Redis, Password: "pw"}, answer(14+22, []byte("+OK\r\n+PONG\r\n")), true, "PONG"},
		{"redis auth then loading", Params{Kind: Redis, Password: "pw"}, answer(14+22, []byte("+OK\r\n-LOADING Redis is loading the dataset in memory\r\n")), false, "-LOADING"},
		{"redis wrong password", Params{Kind: Redis, Password: "pw"}, answer(14+22, []byte("-WRONGPASS invalid username-password pair or user is disabled.\r\n-NOAUTH Authentication required.\r\n")), false, "AUTH: -WRONGPASS"},
		{"redis password not needed", Params{Kind: Redis, Password: "pw"}, answer(14+22, []byte("-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n+PONG\r\n")), true, "PONG"},
		{"redis garbage", Params{Kind: Redis}, answer(14, []byte("SSH-2.0-OpenSSH_9.2\r\n")), false, "not a Redis answer"},
		{"redis closes mid-line", Params{Kind: Redis}, answer(14, []byte("+PO")), false, "in the middle of its answer"},
		{"redis silent", Params{Kind: Redis}, hang, false, "timed out"},

		{"amqp", Params{Kind: AMQP}, answer(8, amqpFrame(10, 10, 0, 9)), true, "Connection.Start (AMQP 0-9)"},
		{"amqp in pieces", Params{Kind: AMQP}, answer(8, split(amqpFrame(10, 10, 0, 9, 1, 2, 3))...), true, "Connection.Start"},
		{"amqp other method", Params{Kind: AMQP}, answer(8, amqpFrame(10, 50)), false, "10.50, not Connection.Start"},
		{"amqp 1.0 broker", Params{Kind: AMQP}, answer(8, []byte("AMQP\x00\x01\x00\x00")), false, "speaks AMQP 1-0-0"},
		{"amqp no frame end", Params{Kind: AMQP}, answer(8, append(amqpFrame(10, 10)[:11], 0)), false, "no frame end"},
		{"amqp closes", Params{Kind: AMQP}, answer(8), false, "closed the connection before it sent Connection.Start"},

		{"memcached", Params{Kind: Memcached}, answer(9, []byte("VERSION 1.6.18\r\n")), true, "VERSION 1.6.18"},
		{"memcached error", Params{Kind: Memcached}, answer(9, []byte("SERVER_ERROR out of memory\r\n")), false, "version answered SERVER_ERROR out of memory"},
		{"memcached endless line", Params{Kind: Memcached}, answer(9, []byte(strings.Repeat("x", 600))), false, "longer than 256 bytes"},

		{"kafka", Params{Kind: Kafka}, answer(4+2+2+4+2+12, kafkaResp(kafkaCorrelation, 0)), true, "ApiVersions ok (0 APIs)"},
		{"kafka error", Params{Kind: Kafka}, answer(26, kafkaResp(kafkaCorrelation, 35)), false, "error code 35"},
		{"kafka wrong correlation", Params{Kind: Kafka}, answer(26, kafkaResp(7, 0)), false, "correlation id 7"},
		{"kafka huge length", Params{Kind: Kafka}, answer(26, []byte{0x7f, 0xff, 0xff, 0xff}), false, "not a Kafka answer"},

		{"mongodb hello", Params{Kind: MongoDB}, mongoServer(opMsgReply(bsonDoc("isWritablePrimary", true, "topologyVersion", "x", "ok", 1.0))), true, "hello ok"},
		{"mongodb old server", Params{Kind: MongoDB}, mongoServer(opMsgReply(bsonDoc("ok", 0.0, "errmsg", "no such command: 'hello'", "code", 59)), opMsgReply(bsonDoc("ismaster", true, "ok", 1.0))), true, "isMaster ok"},
		{"mongodb not ok", Params{Kind: MongoDB}, mongoServer(opMsgReply(bsonDoc("ok", 0.0, "errmsg", "node is recovering", "code", 91))), false, "hello: ok 0, code 91: node is recovering"},
		{"mongodb garbage", Params{Kind: MongoDB}, answer(-1, []byte("\x30\x00\x00\x00garbagegarbagegarbagegarbagegarbagegarbageg")), false, "not a MongoDB answer"},

		{"unknown", Params{Kind: "ftp"}, answer(0), false, `unknown protocol "ftp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := fake(t, tt.serve)
			// Not a time limit on the check: a generous bound so that a broken one cannot hang,
			// and the attempt timeout that cuts off a silent server.
			limit := 20 * time.Second
			if strings.Contains(tt.detail, "timed out") {
				limit = 200 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			defer cancel()
			ok, detail, err := Probe(ctx, addr, tt.p)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if ok != tt.ok || !strings.Contains(detail, tt.detail) {
				t.Errorf("Probe = %v %q, want %v and %q", ok, detail, tt.ok, tt.detail)
			}
		})
	}
}

// TestRequests pins the bytes each check writes: they are what servers parse.
func TestRequests(t *testing.T) {
	got := make(chan []byte, 1)
	capture := func(n int) func(net.Conn) {
		return func(c net.Conn) {
			b := make([]byte, n)
			io.ReadFull(c, b)
			got <- b
		}
	}
	for _, tc := range []struct {
		p    Params
		n    int
		want string
	}{
		{Params{Kind: Redis, Password: "s3"}, 36, "*2\r\n$4\r\nAUTH\r\n$2\r\ns3\r\n*1\r\n$4\r\nPING\r\n"},
		{Params{Kind: AMQP}, 8, "AMQP\x00\x00\x09\x01"},
		{Params{Kind: Memcached}, 9, "version\r\n"},
		{Params{Kind: Postgres, User: "app", Database: "shop"}, 62, "\x00\x00\x00\x3e\x00\x03\x00\x00user\x00app\x00database\x00shop\x00application_name\x00envctl-probe\x00\x00"},
		{Params{Kind: Kafka}, 26, "\x00\x00\x00\x16\x00\x12\x00\x00envc\x00\x0cenvctl-probe"},
	} {
		addr := fake(t, capture(tc.n))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		Probe(ctx, addr, tc.p)
		cancel()
		if b := <-got; string(b) != tc.want {
			t.Errorf("%s writes %q, want %q", tc.p.Kind, b, tc.want)
		}
	}
}

func TestProbeRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, _, err = Probe(context.Background(), addr, Params{Kind: Redis})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Probe of a closed port: %v, want connection refused", err)
	}
}

// TestGRPC runs the check against grpc-go's own health server: SERVING for the server and a
// named service, NOT_SERVING, an unknown service, and a server that is not gRPC.
func TestGRPC(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(l)
	defer srv.Stop()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("shop.Orders", healthpb.HealthCheckResponse_NOT_SERVING)
	addr := l.Addr().String()
	noHealth, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bare := grpc.NewServer()
	go bare.Serve(noHealth)
	defer bare.Stop()
	garbage := fake(t, answer(-1, []byte("HTTP/1.1 400 Bad Request\r\n\r\n")))

	for _, tc := range []struct {
		addr, service string
		ok            bool
		detail        string
	}{
		{addr, "", true, "SERVING"},
		{addr, "shop.Orders", false, "NOT_SERVING"},
		{addr, "shop.Nope", false, "SERVICE_UNKNOWN"},
		{noHealth.Addr().String(), "", false, "no grpc.health.v1 service"},
		{garbage, "", false, "Unavailable"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		ok, detail, err := Probe(ctx, tc.addr, Params{Kind: GRPC, Service: tc.service})
		cancel()
		if err != nil || ok != tc.ok || !strings.Contains(detail, tc.detail) {
			t.Errorf("service %q at %s: %v %q %v, want %v %q", tc.service, tc.addr, ok, detail, err, tc.ok, tc.detail)
		}
	}
	hs.SetServingStatus("shop.Orders", healthpb.HealthCheckResponse_SERVING)
	if ok, detail, _ := Probe(context.Background(), addr, Params{Kind: GRPC, Service: "shop.Orders"}); !ok {
		t.Errorf("after SERVING: %v %q", ok, detail)
	}
}

// FuzzParsers feeds arbitrary server answers to every parser: none may panic, hang or claim
// ready for what is not an answer of its protocol's shape.
func FuzzParsers(f *testing.F) {
	for _, seed := range [][]byte{
		pgAuth(10), pgError("FATAL", "57P03", "starting"), mysqlGreeting("8.0"), mysqlErr(1040, "x"),
		[]byte("+PONG\r\n"), []byte("-LOADING x\r\n"), amqpFrame(10, 10, 0, 9), []byte("VERSION 1\r\n"),
		kafkaResp(kafkaCorrelation, 0), opMsgReply(bsonDoc("ok", 1.0, "errmsg", "x", "code", 59)), {},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(name string, ok bool, detail string, err error) {
			if ok && err != nil {
				t.Errorf("%s: ok with an error %v", name, err)
			}
			if ok && detail == "" {
				t.Errorf("%s: ok without a detail", name)
			}
		}
		r := func() *bufio.Reader { return bufio.NewReader(strings.NewReader(string(b))) }
		ok, d, err := readPostgres(r())
		check("postgres", ok, d, err)
		if ok && b[0] != 'R' && b[0] != 'E' && b[0] != 'N' && b[0] != 'v' && b[0] != 'S' && b[0] != 'K' {
			t.Errorf("postgres ready on message type %q", b[0])
		}
		ok, d, err = checkMySQL(struct {
			io.Reader
			io.Writer
		}{r(), io.Discard})
		check("mysql", ok, d, err)
		if ok && (len(b) < 5 || b[4] != 0x0a) {
			t.Errorf("mysql ready without a protocol 10 greeting")
		}
		ok, d, err = readRedis(r(), len(b)%2 == 0)
		check("redis", ok, d, err)
		ok, d, err = readAMQP(r())
		check("amqp", ok, d, err)
		ok, d, err = readMemcached(bufio.NewReaderSize(strings.NewReader(string(b)), 256))
		check("memcached", ok, d, err)
		ok, d, err = readKafka(r())
		check("kafka", ok, d, err)
		if doc, err := readOpMsg(r()); err == nil {
			bsonTop(doc)
		}
		bsonTop(b)
	})
}

// fullGreeting is a MySQL 8-style protocol-10 greeting that names its authentication plugin.
func fullGreeting(ver, plugin string) []byte {
	b := append([]byte{0x0a}, ver...)
	b = append(b, 0)
	b = append(b, 7, 0, 0, 0)          // connection id
	b = append(b, "abcdefgh"...)       // auth data, part 1
	b = append(b, 0)                   // filler
	b = append(b, 0xff, 0xff)          // capabilities, low
	b = append(b, 45, 2, 0)            // charset, status
	b = append(b, 0xff, 0xdf)          // capabilities, high: CLIENT_PLUGIN_AUTH among them
	b = append(b, 21)                  // auth data length
	b = append(b, make([]byte, 10)...) // reserved
	b = append(b, "ijklmnopqrst\x00"...)
	b = append(append(b, plugin...), 0)
	return b
}

// TestMySQLLogin: after the greeting the probe logs in (as a user no server has, with no
// password, naming the server's plugin), follows an auth switch, says COM_QUIT when let in,
// and hangs up only once the server has answered: a greeting left unanswered is what makes
// MySQL and MariaDB block a host.
func TestMySQLLogin(t *testing.T) {
	const (
		errDenied = "\xff\x15\x04#28000Access denied"
		ok        = "\x00\x00\x00\x02\x00\x00\x00"
		authSwap  = "\xfemysql_native_password\x00abcdefghijklmnopqrst\x00"
	)
	for _, tc := range []struct {
		name    string
		answers []string // the server's answers to the client's packets after the greeting
		want    []string // what each client packet after the greeting must contain
	}{
		{"refused", []string{errDenied}, []string{"envctl-probe-nobody\x00\x00caching_sha2_password\x00"}},
		{"auth switch, then refused", []string{authSwap, errDenied}, []string{"envctl-probe-nobody", ""}},
		{"let in: COM_QUIT", []string{ok, ""}, []string{"envctl-probe-nobody", "\x01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan []string, 1)
			addr := fake(t, func(c net.Conn) {
				var packets []string
				defer func() { got <- packets }()
				c.Write(mysqlFrame(0, fullGreeting("8.0.36", "caching_sha2_password")))
				for i, a := range tc.answers {
					c.SetReadDeadline(time.Now().Add(5 * time.Second))
					seq, _, body, err := readMySQLPacket(c, "a client packet")
					if err != nil {
						t.Errorf("client packet %d: %v", i+1, err)
						return
					}
					if i == 0 && seq != 1 {
						t.Errorf("the login's sequence id is %d, want 1", seq)
					}
					packets = append(packets, string(body))
					if a != "" {
						c.Write(mysqlFrame(seq+1, []byte(a)))
					}
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			okv, detail, err := Probe(ctx, addr, Params{Kind: MySQL})
			if err != nil || !okv || detail != "handshake from 8.0.36" {
				t.Errorf("Probe = %v %q %v, want ready on the greeting", okv, detail, err)
			}
			packets := <-got
			if len(packets) != len(tc.want) {
				t.Fatalf("the client sent %d packets after the greeting (%q), want %d", len(packets), packets, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(packets[i], w) || (w == "" && packets[i] != "") {
					t.Errorf("client packet %d = %q, want it to contain %q", i+1, packets[i], w)
				}
			}
		})
	}
	if p := greetingPlugin(fullGreeting("8.0.36", "caching_sha2_password")); p != "caching_sha2_password" {
		t.Errorf("greetingPlugin = %q", p)
	}
	if p := greetingPlugin(mysqlGreeting("5.0")[4:]); p != "mysql_native_password" {
		t.Errorf("greetingPlugin of an old greeting = %q", p)
	}
}

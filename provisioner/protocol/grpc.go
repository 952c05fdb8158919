package protocol

import (
	"context"
	"net"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// checkGRPC asks grpc.health.v1.Health/Check about p.Service over conn: SERVING is ready;
// NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN (grpc-go says NotFound for a service it does not know)
// and any failed call are not. HTTP/2 and gRPC's framing are more than a few bytes, so the
// well-kept google.golang.org/grpc client does the call, over the connection the caller made
// (the agent's or envctl's own), never dialling by itself.
func checkGRPC(ctx context.Context, conn net.Conn, p Params) (bool, string) {
	var once sync.Once
	dial := func(context.Context, string) (net.Conn, error) {
		var c net.Conn
		once.Do(func() { c = conn })
		if c == nil {
			return nil, net.ErrClosed // one connection per attempt; a redial is the next attempt's
		}
		return c, nil
	}
	cc, err := grpc.NewClient("passthrough:///"+conn.RemoteAddr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(dial))
	if err != nil {
		return false, err.Error()
	}
	defer cc.Close()
	resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{Service: p.Service})
	if err != nil {
		st := status.Convert(err)
		switch st.Code() {
		case codes.NotFound:
			return false, "SERVICE_UNKNOWN: " + st.Message()
		case codes.Unimplemented:
			return false, "the server has no grpc.health.v1 service (Unimplemented)"
		case codes.DeadlineExceeded:
			return false, "no answer in time (timed out)"
		}
		msg := st.Message()
		if i := strings.LastIndex(msg, ": "); i >= 0 && st.Code() == codes.Unavailable {
			msg = msg[i+2:]
		}
		return false, st.Code().String() + ": " + msg
	}
	s := resp.GetStatus()
	return s == healthpb.HealthCheckResponse_SERVING, s.String()
}

// Package protocol holds readiness checks that speak a server's own protocol: a server is ready
// when a real client's first operation would work, not merely when its port accepts TCP.
// Postgres answers "the database system is starting up" on its port during recovery, Redis
// -LOADING while it reads its data, a gRPC server listens before its health service says
// SERVING, a broker accepts connections before its handshake works.
//
// Each check runs over one connection that the caller dialled (envctl's own process, or the
// probe agent inside the environment's network: the same code in both), bounded by the
// context's deadline, and says ok and a short detail for the probe history: "PONG",
// "-LOADING Redis is loading the dataset in memory", "FATAL 57P03: the database system is
// starting up". Every check is a handful of bytes written by hand except gRPC, whose HTTP/2
// framing is left to google.golang.org/grpc and its grpc.health.v1 client.
//
// The parsers of the servers' answers are plain functions over an io.Reader, so that they can
// be table-tested and fuzzed without a network; they bound every length they read.
package protocol

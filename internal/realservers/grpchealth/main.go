// Command grpchealth is a gRPC server for the real-server tests of the grpc probe: it listens
// on :9090 at once, its grpc.health.v1 service reports NOT_SERVING (for the server and for
// "app") for $NOT_SERVING_FOR (a Go duration, default 3s), then SERVING — as a server whose
// listener opens before its dependencies are connected.
package main

import (
	"log"
	"net"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	wait := 3 * time.Second
	if v := os.Getenv("NOT_SERVING_FOR"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			log.Fatalf("NOT_SERVING_FOR: %v", err)
		}
		wait = d
	}
	l, err := net.Listen("tcp", ":9090")
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	hs.SetServingStatus("app", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() {
		time.Sleep(wait)
		hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		hs.SetServingStatus("app", healthpb.HealthCheckResponse_SERVING)
		log.Printf("SERVING")
	}()
	log.Printf("listening on :9090, NOT_SERVING for %v", wait)
	log.Fatal(srv.Serve(l))
}

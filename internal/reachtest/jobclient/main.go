// Command jobclient is the CLIENT of issue 10's CI-job-container test: what a pipeline step
// would run under `envctl run`. It GETs the shop's front at the endpoint envctl handed it in
// $WEB_HTTP, prints the answer, and exits with the status given as its argument (to show that
// run passes it through), or 1 when the front does not answer.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	code := 0
	if len(os.Args) > 1 {
		code, _ = strconv.Atoi(os.Args[1])
	}
	addr := os.Getenv("WEB_HTTP")
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		fmt.Fprintf(os.Stderr, "jobclient: GET %s: %v\n", addr, err)
		os.Exit(1)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("GET %s: HTTP %d: %s\n", addr, resp.StatusCode, body)
	if resp.StatusCode != http.StatusOK {
		os.Exit(1)
	}
	os.Exit(code)
}

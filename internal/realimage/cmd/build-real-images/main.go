// Command build-real-images builds the real-server images the readiness tests run (see
// package realimage): `go run ./internal/realimage/cmd/build-real-images [NAME...]`, all by
// default. CI starts it early in the background so the build overlaps with other tests.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/envctl/envctl/internal/realimage"
)

func main() {
	names := os.Args[1:]
	if len(names) == 0 {
		names = realimage.Names()
	}
	imgs, err := realimage.Ensure(context.Background(), os.Stderr, names...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "build-real-images:", err)
		os.Exit(1)
	}
	var list []string
	for _, n := range names {
		list = append(list, imgs[n])
	}
	fmt.Println("ready:", strings.Join(list, " "))
}

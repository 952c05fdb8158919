// Package testimage builds the Docker images that envctl's tests run, locally and
// without a registry: a static Go binary (CGO_ENABLED=0) copied into a FROM scratch
// image.
//
// Images are tagged by content, "envctl-test/<name>:<first 12 hex of the binary's
// sha256>", so a build is skipped whenever the engine already holds the tag: repeated
// test runs, parallel test processes and concurrent tests in one process all share one
// image per content. The images carry the label io.envctl.test=testimage and are kept
// between runs on purpose (they are the cache); remove them with
//
//	docker image rm $(docker image ls -q --filter label=io.envctl.test=testimage)
//
// The package drives the docker CLI through os/exec; by design only
// provisioner/docker imports the Docker SDK.
//
// Typical use in a test:
//
//	img := testimage.NeedTestsvc(t) // skip or, with CI=true, fail without Docker
//	// docker run ... img --http 8080
package testimage

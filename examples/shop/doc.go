// Package shop holds the end-to-end test of the shop example: it builds the five
// services' images from their own Dockerfiles, runs them on a private Docker network
// in dependency order with addresses set by hand (as envctl.hcl would inject them), and
// asserts the chain answer of web. The programs live in the subdirectories.
package shop

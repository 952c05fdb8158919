// Package schema holds the JSON Schemas of the documents envctl prints with -o json: up (and
// run), status and ls. They are the contract for pipelines that read envctl's output; the CLI
// tests validate real output against them.
package schema

import "embed"

// Files holds up.schema.json, status.schema.json and ls.schema.json.
//
//go:embed *.schema.json
var Files embed.FS

package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/envctl/envctl/cli/schema"
)

var (
	schemasOnce sync.Once
	schemas     map[string]*jsonschema.Schema
	schemasErr  error
)

// loadSchemas compiles the schemas in cli/schema once.
func loadSchemas() (map[string]*jsonschema.Schema, error) {
	schemasOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		schemas = map[string]*jsonschema.Schema{}
		for _, name := range []string{"up", "status", "ls"} {
			data, err := schema.Files.ReadFile(name + ".schema.json")
			if err != nil {
				schemasErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				schemasErr = fmt.Errorf("%s.schema.json: %v", name, err)
				return
			}
			url := "https://envctl.dev/schema/" + name + ".schema.json"
			if err := c.AddResource(url, doc); err != nil {
				schemasErr = err
				return
			}
			if schemas[name], err = c.Compile(url); err != nil {
				schemasErr = err
				return
			}
		}
	})
	return schemas, schemasErr
}

// validateDoc checks one document against the named schema.
func validateDoc(name string, data []byte) error {
	s, err := loadSchemas()
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	if err := s[name].Validate(doc); err != nil {
		return fmt.Errorf("does not match %s.schema.json: %v", name, err)
	}
	return nil
}

// cmdSchema: schema NAME — validates the last command's stdout against cli/schema/NAME.schema.json.
func cmdSchema(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: schema up|status|ls")
	}
	err := validateDoc(args[0], []byte(ts.ReadFile("stdout")))
	if (err == nil) == neg {
		ts.Fatalf("schema %s: %v", args[0], err)
	}
}

// TestSchemasRejectWrongDocuments proves the schemas can fail: documents with a wrong field
// type, a missing field or an unknown field are rejected.
func TestSchemasRejectWrongDocuments(t *testing.T) {
	good := upDoc{Name: "shop", Backend: "docker", OK: true, Services: []serviceDoc{{Name: "api", State: "ready", Endpoints: map[string]string{"http": "127.0.0.1:1234"}}}, CriticalPath: []pathStepDoc{}}
	data, _ := json.Marshal(good)
	if err := validateDoc("up", data); err != nil {
		t.Fatalf("a good document: %v", err)
	}
	for name, doc := range map[string]string{
		"missing ok":     `{"name":"shop","backend":"docker","duration_ms":1,"services":[],"critical_path":[],"rolled_back":false}`,
		"wrong backend":  `{"name":"shop","backend":"k8s","ok":true,"duration_ms":1,"services":[],"critical_path":[],"rolled_back":false}`,
		"unknown field":  `{"name":"shop","backend":"docker","ok":true,"duration_ms":1,"services":[],"critical_path":[],"rolled_back":false,"extra":1}`,
		"bad state":      `{"name":"shop","backend":"docker","ok":true,"duration_ms":1,"services":[{"name":"a","state":"happy","endpoints":{}}],"critical_path":[],"rolled_back":false}`,
		"bad endpoint":   `{"name":"shop","backend":"docker","ok":true,"duration_ms":1,"services":[{"name":"a","state":"ready","endpoints":{"http":"nowhere"}}],"critical_path":[],"rolled_back":false}`,
		"negative time":  `{"name":"shop","backend":"docker","ok":true,"duration_ms":-1,"services":[],"critical_path":[],"rolled_back":false}`,
		"error w/o text": `{"name":"shop","backend":"docker","ok":false,"duration_ms":1,"services":[],"critical_path":[],"rolled_back":true,"error":{}}`,
	} {
		if err := validateDoc("up", []byte(doc)); err == nil {
			t.Errorf("%s: the schema accepted %s", name, doc)
		}
	}
}

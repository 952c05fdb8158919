package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/envctl/envctl/envs"
	"github.com/hashicorp/hcl/v2"
)

func main() {
	env, files, diags := envs.Load(envs.Options{Paths: os.Args[1:]})
	w := hcl.NewDiagnosticTextWriter(os.Stdout, files, 100, false)
	w.WriteDiagnostics(diags)
	b, _ := json.MarshalIndent(env, "", "  ")
	fmt.Println(string(b))
	for _, s := range env.Services {
		t := s.Template()
		fmt.Printf("%s template: %+v\n", s.Name, t)
		r, d := s.Resolve(map[string]envs.Endpoint{"db": {Host: "db", Ports: map[string]int{"pg": 5432}}, "migrate": {Host: "m"}})
		fmt.Printf("%s resolve: %+v %v\n", s.Name, r, d)
	}
}

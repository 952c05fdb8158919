package envs

// ServiceAttributes lists every attribute and block a service block accepts, in the schema's
// order, so that documentation can be checked against the loader.
func ServiceAttributes() []string {
	var out []string
	for _, a := range serviceSchema.Attributes {
		out = append(out, a.Name)
	}
	for _, b := range serviceSchema.Blocks {
		out = append(out, b.Type)
	}
	return out
}

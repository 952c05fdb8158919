// Package envs loads the environment file: it parses HCL, evaluates variables, locals and
// functions, checks references and validates every service, and returns an Environment that
// the provisioner can run, or hcl.Diagnostics worded for the file's author.
//
// # Pipeline
//
// Load follows Nomad's jobspec2 order, so that one mistake does not cause a cascade:
//
//  1. Find the files (-f files, the *.hcl of -f directories in lexical order, or envctl.hcl)
//     and the --var-file files, and parse them all with one hclparse.Parser, whose file map
//     is returned for rendering snippets. Any syntax error stops here.
//  2. Decode the top-level blocks: environment, variable, locals, service.
//  3. Declare variables and set their values. Precedence, lowest first: default,
//     ENVCTL_VAR_<name>, --var-file, --var. A required variable without a value is an error,
//     and its value stays unknown so that expressions using it add no knock-on errors.
//     Sensitive values carry a cty mark that follows them through every expression.
//  4. Settle the environment's name (--name, environment.name, the directory's name) and TTL.
//  5. Evaluate locals in dependency order; a cycle among locals is reported once.
//  6. First service pass: headers, names, duplicates and ports, which references need.
//  7. Second service pass: every attribute and block. Before an expression is evaluated each
//     of its references is checked (declared? allowed here? the port exists?), and an
//     expression with a wrong reference is not evaluated. command, entrypoint and env may use
//     service.N.host and service.N.ports.P: they are kept as expressions, type-checked now
//     with unknown addresses, and evaluated by Service.Resolve once the addresses are known
//     (Service.Template renders the addresses as their source text instead).
//  8. Build the dependency graph (depends_on plus every service reference) and report each
//     cycle with the place of each of its edges.
//
// Diagnostics name files as the user gave them (-f examples/shop gives
// "examples/shop/envctl.hcl"), so messages read naturally. Sensitive values quoted in error
// messages are replaced by "(sensitive)".
//
// Untyped variables have the type "any"; like Terraform, --var and ENVCTL_VAR_ values for
// them (and for string variables) are taken literally, while other types parse the value as
// an HCL expression.
package envs

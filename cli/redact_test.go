package cli

import "testing"

// TestRedactorKeepsWhatIsNotSecret: issue 11's bug. A password "temporal" turned
// "temporalio-docker-compose" into "(sensitive)io-docker-compose" and plan's
// POSTGRES_USER=temporal into POSTGRES_USER=(sensitive); the secret itself stays hidden.
func TestRedactorKeepsWhatIsNotSecret(t *testing.T) {
	r := &redactor{}
	r.add("temporal", "a-long-random-token-0123456789")
	r.allow("POSTGRES_USER=temporal")
	for in, want := range map[string]string{
		`Environment "temporalio-docker-compose" is valid`:      `Environment "temporalio-docker-compose" is valid`,
		"image temporalio/auto-setup:1.22, service temporal-ui": "image temporalio/auto-setup:1.22, service temporal-ui",
		"      POSTGRES_USER=temporal\n":                        "      POSTGRES_USER=temporal\n",
		"      POSTGRES_PWD=temporal\n":                         "      POSTGRES_PWD=(sensitive)\n",
		"connect postgres://temporal:temporal@db:5432/":         "connect postgres://(sensitive):(sensitive)@db:5432/",
		"password is temporal.":                                 "password is (sensitive).",
		"temporal":                                              "(sensitive)",
		"xa-long-random-token-0123456789x":                      "x(sensitive)x",
		"POSTGRES_USER=temporal POSTGRES_PWD=temporal":          "POSTGRES_USER=temporal POSTGRES_PWD=(sensitive)",
	} {
		if got := string(r.apply([]byte(in))); got != want {
			t.Errorf("apply(%q) = %q, want %q", in, got, want)
		}
	}
}

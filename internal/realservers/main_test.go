package realservers

import (
	"os"
	"testing"

	"github.com/envctl/envctl/internal/mesoscluster"
)

// TestMain stops the real Mesos cluster that TestProbesOnRealMesos starts, if it did.
func TestMain(m *testing.M) { os.Exit(mesoscluster.Main(m)) }

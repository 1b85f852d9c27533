package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestScripts runs testdata/script/*.txtar on the real binaries: exit
// codes, messages and files for what needs no network (usage and config
// errors, plan, midnight-reset, hostcheck boot). No script sends a packet.
func TestScripts(t *testing.T) {
	bin(t, "netcheck") // builds all three
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("TZ", "UTC0")
			return nil
		},
		// [root]: root-only behaviour (a config others can write is
		// refused only when its commands would run as root).
		// [sandbox]: user, mount and network namespaces, as root or as a
		// user where the kernel allows unprivileged user namespaces.
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			case "sandbox":
				return exec.Command("unshare", "-rmn", "true").Run() == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

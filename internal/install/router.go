package install

import "context"

// deployRouter sets up the router over SSH (--router).
func (in *installer) deployRouter(_ context.Context) error {
	return usageError("--router is not available in the Go installer yet", "use scripts/install.sh --router")
}

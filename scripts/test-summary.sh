#!/bin/sh
# test-summary.sh LOG: the summary `make test` prints after
# `go test -v ./... > LOG`: the package lines, every skipped test, how many
# end-to-end tests really ran in network namespaces, and the totals.
#
# An end-to-end test counts only when it logged "E2E-RAN NAME" (its
# namespaces were set up: e2e needRoot, installtest newNetns) and its
# "--- PASS: NAME" line is there: a test that skipped (not root, a tool
# missing) never logs the marker, so a run where every end-to-end test
# skipped says so instead of counting unit tests (issue 9 item 3).
set -eu
log=$1
grep -E '^(ok|FAIL|panic)' "$log" || true
grep -E -- '--- SKIP' "$log" | sed 's/^ */SKIPPED: /' || true
e2e=$(awk '{
	for (i = 1; i < NF; i++) {
		if ($i == "E2E-RAN") ran[$(i + 1)] = 1
		if ($i == "PASS:") pass[$(i + 1)] = 1
	}
}
END {
	n = 0
	for (k in ran) if (k in pass) n++
	print n
}' "$log")
if [ "$e2e" -gt 0 ]; then
	echo "e2e: $e2e end-to-end tests passed in network namespaces"
else
	echo "e2e: 0 end-to-end tests ran: they all skipped (they need root and the tools; see SKIPPED above)"
fi
echo "$(grep -cE -- '--- PASS' "$log" || true) passed, $(grep -cE -- '--- FAIL' "$log" || true) failed, $(grep -cE -- '--- SKIP' "$log" || true) skipped"

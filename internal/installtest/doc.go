// Package installtest holds the end-to-end tests of the installer (SPEC
// §10, §11): scripts/install.sh, the bootstrap, finds the binary for the
// machine and runs its `install` (internal/install). The tests run it
// under busybox ash and dash, as root, inside network namespaces they
// create, into temporary --prefix trees (or overlays of /etc, /usr and
// /var in a mount namespace), with the real netcheck, hostcheck and
// midnight-reset built once for the package. The remote router deploy is
// tested against Dropbear in a "router" namespace joined by veth to a
// "host" namespace. The package has no code of its own.
package installtest

// Package installtest holds the tests of scripts/install.sh (SPEC §10, §11):
// the installer is run under busybox ash and dash, as root, inside network
// namespaces the tests create, into temporary --prefix trees, with small
// stand-in executables in place of the real binaries. The remote router
// deploy is tested against Dropbear in a "router" namespace joined by veth
// to a "host" namespace. The package has no code of its own.
package installtest

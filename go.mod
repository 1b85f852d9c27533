module github.com/pve-op/network-rescue

go 1.26.8

require (
	github.com/lmittmann/tint v1.2.1
	github.com/natefinch/atomic v1.0.1
	// v0.3.0, the last pro-bing without its HTTP pinger (v0.4.0 added http.go,
	// which links net/http and crypto/tls into every binary: +1 MB of netcheck,
	// the router's flash). See internal/probe/deps_test.go before upgrading.
	github.com/prometheus-community/pro-bing v0.3.0
	github.com/prometheus/client_model v0.6.3
	github.com/prometheus/common v0.74.0
	github.com/rogpeppe/go-internal v1.16.0
	golang.org/x/crypto v0.59.0
	golang.org/x/net v0.62.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
	pgregory.net/rapid v1.3.0
)

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/pandatix/go-abnf v0.5.5 // indirect
	golang.org/x/sync v0.21.0 // indirect
	golang.org/x/tools v0.26.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

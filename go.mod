module github.com/integ/integ

go 1.26.8

require (
	github.com/cenkalti/backoff/v4 v4.3.0
	github.com/spf13/cobra v1.10.2
	github.com/tidwall/gjson v1.20.1
	golang.org/x/text v0.14.0
	golang.org/x/tools v0.52.0
	sigs.k8s.io/yaml v1.6.0
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.0 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
)

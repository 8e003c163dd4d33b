module github.com/custodyhq/custody/certs

go 1.26.0

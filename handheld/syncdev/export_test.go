package syncdev

// ParseIdentity exposes the parsing behind LoadIdentity to the fuzz test.
var ParseIdentity = parseIdentity

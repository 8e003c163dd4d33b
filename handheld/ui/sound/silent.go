//go:build !cgo || !(linux || android || darwin || windows)

package sound

// Open returns Silent: this build has no audio library (built without
// cgo).
func Open() Player { return Silent{Why: "built without cgo: no audio library"} }

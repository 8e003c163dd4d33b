// Package sound gives each scan verdict its own sound: a short high beep
// for accepted, two mid beeps for a warning, a low buzz for a refusal, a
// siren for an alert (hold, recall, suspect code) and a rising chord when
// a task is done. Tones are made here as 16-bit mono PCM; a Player plays
// them through the platform's audio (oto, where cgo and a sound device
// are there) or stays silent.
package sound

import (
	"encoding/binary"
	"math"

	"github.com/custodyhq/custody/handheld/engine"
)

// Rate is the sample rate of the tones.
const Rate = 44100

// Player plays a cue's sound without blocking.
type Player interface {
	Play(c engine.Cue)
	// Name says what plays the sounds ("silent: …" when nothing does).
	Name() string
}

// tone is one segment: frequencies from f0 to f1 (a sweep when they
// differ), a square wave when buzz, for ms milliseconds; f0 = 0 is silence.
type tone struct {
	f0, f1 float64
	ms     int
	buzz   bool
}

func score(c engine.Cue) []tone {
	switch c {
	case engine.CueOK:
		return []tone{{f0: 1760, f1: 1760, ms: 90}}
	case engine.CueWarn:
		return []tone{{f0: 880, f1: 880, ms: 110}, {ms: 70}, {f0: 880, f1: 880, ms: 110}}
	case engine.CueRefuse:
		return []tone{{f0: 180, f1: 180, ms: 450, buzz: true}}
	case engine.CueAlert:
		return []tone{{f0: 700, f1: 1400, ms: 220}, {f0: 1400, f1: 700, ms: 220}, {f0: 700, f1: 1400, ms: 220}, {f0: 1400, f1: 700, ms: 220}}
	case engine.CueDone:
		return []tone{{f0: 523, f1: 523, ms: 110}, {f0: 659, f1: 659, ms: 110}, {f0: 784, f1: 784, ms: 110}, {f0: 1047, f1: 1047, ms: 220}}
	}
	return nil
}

// PCM is the cue's sound as signed 16-bit little-endian mono samples at
// Rate; nil for an unknown cue.
func PCM(c engine.Cue) []byte {
	var out []byte
	for _, t := range score(c) {
		n := Rate * t.ms / 1000
		phase := 0.0
		for i := 0; i < n; i++ {
			v := 0.0
			if t.f0 > 0 {
				f := t.f0 + (t.f1-t.f0)*float64(i)/float64(n)
				phase += 2 * math.Pi * f / Rate
				v = math.Sin(phase)
				if t.buzz {
					v = math.Copysign(0.6, v)
				}
				// 5 ms fade in and out: no clicks
				fade := math.Min(1, math.Min(float64(i), float64(n-i))/(Rate*0.005))
				v *= 0.7 * fade
			}
			out = binary.LittleEndian.AppendUint16(out, uint16(int16(v*math.MaxInt16)))
		}
	}
	return out
}

// Silent plays nothing; Why says why.
type Silent struct{ Why string }

// Play implements Player.
func (Silent) Play(engine.Cue) {}

// Name implements Player.
func (s Silent) Name() string { return "silent: " + s.Why }

//go:build cgo && (linux || android || darwin || windows)

package sound

import (
	"bytes"
	"fmt"
	"time"

	"github.com/ebitengine/oto/v3"

	"github.com/custodyhq/custody/handheld/engine"
)

// otoPlayer plays through oto. A process has one oto context at most.
type otoPlayer struct{ ctx *oto.Context }

// Open returns a player on the platform's sound device, or Silent with
// the reason when there is none (a machine without a sound card, a
// container, CI). It never fails.
func Open() Player {
	ctx, ready, err := oto.NewContext(&oto.NewContextOptions{SampleRate: Rate, ChannelCount: 1,
		Format: oto.FormatSignedInt16LE, BufferSize: 60 * time.Millisecond})
	if err != nil {
		return Silent{Why: fmt.Sprintf("no sound device (%v)", err)}
	}
	select {
	case <-ready:
	case <-time.After(2 * time.Second):
		return Silent{Why: "the sound device did not answer"}
	}
	return &otoPlayer{ctx: ctx}
}

func (p *otoPlayer) Play(c engine.Cue) {
	pcm := PCM(c)
	if len(pcm) == 0 {
		return
	}
	pl := p.ctx.NewPlayer(bytes.NewReader(pcm))
	pl.Play()
	go func() {
		for pl.IsPlaying() {
			time.Sleep(50 * time.Millisecond)
		}
		_ = pl.Close()
	}()
}

func (p *otoPlayer) Name() string { return "oto" }

package engine

import (
	"fmt"

	"github.com/custodyhq/custody/shared/event"
)

// VerifyBatch verifies an opened container against everything read inside
// it at once (a camera frame of an open case or tray): the container is
// opened as by StartVerify and a scan of its label, every raw scan (GS as
// 0x1D) is checked as if scanned one by one (repeats count once), and the
// container is closed. The one step returned is the verdict for the
// container: accepted and completeness verified on a full match,
// otherwise a warning with Missing and Extra listed and the container
// held, as Close does. Scans that are not GS1 keys are not counted; the
// reason says how many there were.
func (e *Engine) VerifyBatch(container event.Key, scans [][]byte) (Step, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, s := e.signedIn("verify"); s != nil {
		return *s, nil
	}
	if err := container.Validate(); err != nil {
		return refused("verify", "%v", err), nil
	}
	t := &verifyTask{}
	e.task = t
	st, err := t.scan(e, Item{Key: container})
	if err != nil || st.Verdict == Refused {
		e.task = nil
		return st, err
	}
	bad := 0
	for _, raw := range scans {
		it, s, err := e.identify(raw, t.policy())
		if err != nil {
			e.task = nil
			return *s, err
		}
		if s != nil {
			bad++
			continue
		}
		if _, err := t.scan(e, it); err != nil {
			e.task = nil
			return failed("verify", err)
		}
	}
	st, err = e.closeVerify(t)
	if err != nil {
		e.task = nil
		return st, err
	}
	if bad > 0 {
		note := fmt.Sprintf("%d read codes were not GS1 keys and were not counted", bad)
		if st.Reason != "" {
			st.Reason += "; " + note
		} else {
			st.Reason = note
		}
	}
	return st, nil
}

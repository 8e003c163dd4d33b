package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Devices: d device 0 epoch → the highest contiguous sequence number
// decided for that device in that epoch. The verdicts themselves are the
// event records (history.go), found by event id when a device resends.

func deviceKey(device string, epoch uint32) []byte {
	return binary.BigEndian.AppendUint32(key(tDevice, device, ""), epoch)
}

// DeviceMark is a device's high-water mark in one epoch.
type DeviceMark struct {
	Device string `json:"device"`
	Epoch  uint32 `json:"epoch"`
	Seq    uint64 `json:"seq"`
}

// Mark returns the high-water mark of (device, epoch): 0 before any event.
func (r *Reader) Mark(device string, epoch uint32) (uint64, error) {
	b, err := r.get(deviceKey(device, epoch))
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: device mark", ErrCorrupt)
	}
	return binary.BigEndian.Uint64(b), nil
}

// Devices lists every (device, epoch) the site has heard from, with its mark.
func (r *Reader) Devices() ([]DeviceMark, error) {
	var out []DeviceMark
	err := r.scan([]byte{tDevice}, nil, true, func(k, v []byte) (bool, error) {
		if len(k) < 6 || len(v) != 8 || k[len(k)-5] != 0 {
			return false, fmt.Errorf("%w: device mark", ErrCorrupt)
		}
		out = append(out, DeviceMark{Device: string(k[1 : len(k)-5]), Epoch: binary.BigEndian.Uint32(k[len(k)-4:]), Seq: binary.BigEndian.Uint64(v)})
		return true, nil
	})
	return out, err
}

// Mark returns the high-water mark of (device, epoch), including the
// transaction's own advances.
func (t *Tx) Mark(device string, epoch uint32) (uint64, error) {
	k := string(deviceKey(device, epoch))
	if m, ok := t.marks[k]; ok {
		return m, nil
	}
	m, err := t.Reader.Mark(device, epoch)
	if err == nil {
		t.marks[k] = m
	}
	return m, err
}

// Advance records that (device, epoch) was decided up to seq: the mark
// is written once per transaction, at Commit.
func (t *Tx) Advance(device string, epoch uint32, seq uint64) {
	t.marks[string(deviceKey(device, epoch))] = seq
}

// flushMarks writes the marks this transaction moved, in key order.
func (t *Tx) flushMarks() error {
	keys := make([]string, 0, len(t.marks))
	for k := range t.marks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		old, err := t.Reader.get([]byte(k))
		if err == nil && len(old) == 8 && binary.BigEndian.Uint64(old) == t.marks[k] {
			continue
		}
		if err := t.set([]byte(k), u64(t.marks[k])); err != nil {
			return err
		}
	}
	clear(t.marks)
	return nil
}

package state

import "encoding/binary"

// Tables: the first byte of every key. The bytes are stored; never reuse one.
const (
	tMeta        byte = 0x01 // meta: applied index, format version
	tUnit        byte = 'u'  // u key → unit state
	tEvent       byte = 'e'  // e id → event, log index, result
	tHistory     byte = 'h'  // h key 0 index pos → event id
	tLot         byte = 'l'  // l gtin 0 lot 0 key → ""
	tChild       byte = 'c'  // c parent 0 child → ""
	tLocation    byte = 'p'  // p location 0 key → ""
	tStatus      byte = 's'  // s status key → ""
	tHeld        byte = 'o'  // o key → holds (units with holds of their own)
	tException   byte = 'x'  // x id → exception
	tExcStatus   byte = 'X'  // X status id → ""
	tActive      byte = 'a'  // a key 0 rule → exception id
	tDevice      byte = 'd'  // d device 0 epoch → high-water mark
	tVerdict     byte = 'v'  // reserved (was: device 0 epoch seq → event id); never reuse
	tInherited   byte = 'g'  // g gtin 0 lot → holds of active lot/product holds
	tMaster      byte = 'M'  // M kind id → JSON record
	tHoldByScope byte = 'k'  // k gtin 0 lot 0 hold id → ""
	tEnroll      byte = 'n'  // n kind id → JSON: enrollment tokens, revoked devices (enroll.go)
	tSignal      byte = 'i'  // i kind id → JSON: signal findings, silenced causes, the analyzer's cursor (signal.go)
)

// knownTables lists every table a snapshot may contain.
func knownTable(b byte) bool {
	switch b {
	case tMeta, tUnit, tEvent, tHistory, tLot, tChild, tLocation, tStatus, tHeld,
		tException, tExcStatus, tActive, tDevice, tVerdict, tInherited, tMaster, tHoldByScope, tFeed, tEnroll, tSignal, tLotCount, tOrderCount, tActivity:
		return true
	}
	return false
}

// Master record kinds (second byte of a tMaster key).
const (
	mSite     byte = 'S'
	mClient   byte = 'C'
	mProduct  byte = 'P'
	mLocation byte = 'L'
	mPartner  byte = 'R'
	mUser     byte = 'U'
	mASN      byte = 'A'
	mOrder    byte = 'O'
	mShipment byte = 'H'
	mHold     byte = 'K'
	mNode     byte = 'N'
	mSerial   byte = 'Z' // a product's published serial model
)

var keyApplied = []byte{tMeta, 'a', 'p', 'p', 'l', 'i', 'e', 'd'}

func key(table byte, parts ...string) []byte {
	n := 1
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, table)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

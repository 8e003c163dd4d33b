package command

import (
	"encoding/json"
	"fmt"

	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

// decodePayload decodes an entry's payload for its type into a pointer
// to the command's value. It is the one decoder of payloads: apply uses
// it, and CheckEntry runs it before anything is proposed.
func decodePayload(t Type, payload []byte) (any, error) {
	var v any
	switch t {
	case TypeEvents:
		var evs Events
		if err := evs.UnmarshalBinary(payload); err != nil {
			return nil, err
		}
		return &evs, nil
	case TypeEnrollToken, TypeUseToken, TypeRevokeDevice, TypePurgeTokens:
		return decodeEnroll(t, payload)
	case TypeSite:
		v = &master.Site{}
	case TypeClient:
		v = &master.Client{}
	case TypeProduct:
		v = &master.Product{}
	case TypeLocation:
		v = &master.Location{}
	case TypePartner:
		v = &master.Partner{}
	case TypeUser:
		v = &master.User{}
	case TypeASN:
		v = &ASN{}
	case TypeOrder:
		v = &master.Order{}
	case TypeShipment:
		v = &master.Shipment{}
	case TypeHold:
		v = &master.Hold{}
	case TypeException:
		v = &ExceptionUpdate{}
	case TypeNode:
		v = &state.Node{}
	case TypeRemoveNode:
		v = &RemoveNode{}
	case TypeASNChunk:
		v = &ASNChunk{}
	case TypeIncarnation:
		v = &Incarnation{}
	case TypeRevokeUserCerts:
		v = &RevokeUserCerts{}
	case TypeFeedLimit:
		v = &FeedLimit{}
	case TypeConsoleKey:
		v = &ConsoleKey{}
	case TypePassword:
		v = &SetPassword{}
	case TypeAccount:
		v = &AccountChange{}
	case TypeSignIn:
		v = &SignIn{}
	case TypeSignals:
		v = &Signals{}
	case TypeSignalVerdict:
		v = &SignalVerdict{}
	case TypeSerialModels:
		v = &SerialModels{}
	case TypeRecall:
		v = &state.Recall{}
	case TypeInvestigation:
		v = &InvestigationStep{}
	case TypeNetworkDuplicate:
		v = &NetworkDuplicate{}
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnknownType, t)
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return nil, err
	}
	return v, nil
}

// CheckEntry reports whether apply can read entry data: its envelope
// opens and its payload decodes for its type with apply's own decoder.
// An entry it refuses would be refused at apply as malformed
// (ErrPayload) — or, for a type this build does not know, stop the
// replica — so whoever proposes checks first. It does not say whether
// the command is acceptable: that depends on the state, in log order.
func CheckEntry(data []byte) error {
	t, payload, err := Decode(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPayload, err)
	}
	if _, err := decodePayload(t, payload); err != nil {
		return fmt.Errorf("%w: type %d: %v", ErrPayload, t, err)
	}
	return nil
}

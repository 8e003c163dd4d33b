package wire

import "encoding/binary"

// Cursor is a down-feed position.
type Cursor struct {
	Cluster string
	Epoch   uint64
	Index   uint64
}

func (c *Cursor) appendTo(b []byte) []byte {
	b = appendString(b, c.Cluster)
	b = appendU64(b, c.Epoch)
	return appendU64(b, c.Index)
}

func (c *Cursor) decode(r *reader) {
	c.Cluster = r.string()
	c.Epoch = r.u64()
	c.Index = r.u64()
}

// Hello opens a session: who the device is and where it stands.
type Hello struct {
	Version     uint32 // protocol version
	Device      string // must match the certificate's device id
	Epoch       uint32 // the device's outbox epoch
	OutboxFirst uint64 // first unacknowledged seq (OutboxLast+1 when empty)
	OutboxLast  uint64 // last seq written
	Cursor      Cursor // down-feed position
	Clock       uint64 // device HLC
	Agent       string // software and version, for diagnostics
}

// Type implements Message.
func (*Hello) Type() Type { return TypeHello }

func (m *Hello) appendTo(b []byte) []byte {
	b = appendU64(b, uint64(m.Version))
	b = appendString(b, m.Device)
	b = appendU64(b, uint64(m.Epoch))
	b = appendU64(b, m.OutboxFirst)
	b = appendU64(b, m.OutboxLast)
	b = m.Cursor.appendTo(b)
	b = binary.BigEndian.AppendUint64(b, m.Clock)
	return appendString(b, m.Agent)
}

func (m *Hello) decode(r *reader) {
	m.Version = r.u32()
	m.Device = r.string()
	m.Epoch = r.u32()
	m.OutboxFirst = r.u64()
	m.OutboxLast = r.u64()
	m.Cursor.decode(r)
	m.Clock = clock(r)
	m.Agent = r.string()
}

func clock(r *reader) uint64 {
	v := r.take(8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// Welcome accepts a session.
type Welcome struct {
	Cluster     string
	Node        string // the node serving the session, for diagnostics
	Clock       uint64 // site HLC
	HighWater   uint64 // highest seq of the device's epoch the site has applied
	MaxFrame    uint32
	MaxPush     uint32
	MaxInFlight uint32
	PingMillis  uint32 // how often the device should ping
}

// Type implements Message.
func (*Welcome) Type() Type { return TypeWelcome }

func (m *Welcome) appendTo(b []byte) []byte {
	b = appendString(b, m.Cluster)
	b = appendString(b, m.Node)
	b = binary.BigEndian.AppendUint64(b, m.Clock)
	b = appendU64(b, m.HighWater)
	b = appendU64(b, uint64(m.MaxFrame))
	b = appendU64(b, uint64(m.MaxPush))
	b = appendU64(b, uint64(m.MaxInFlight))
	return appendU64(b, uint64(m.PingMillis))
}

func (m *Welcome) decode(r *reader) {
	m.Cluster = r.string()
	m.Node = r.string()
	m.Clock = clock(r)
	m.HighWater = r.u64()
	m.MaxFrame = r.u32()
	m.MaxPush = r.u32()
	m.MaxInFlight = r.u32()
	m.PingMillis = r.u32()
}

// MaxPushEvents bounds the events one PUSH frame may carry on the wire.
const MaxPushEvents = 4096

// Push carries events First, First+1, … of one epoch, each in the
// shared/event binary encoding.
type Push struct {
	Epoch  uint32
	First  uint64
	Events [][]byte
}

// Type implements Message.
func (*Push) Type() Type { return TypePush }

func (m *Push) appendTo(b []byte) []byte {
	b = appendU64(b, uint64(m.Epoch))
	b = appendU64(b, m.First)
	b = appendU64(b, uint64(len(m.Events)))
	for _, e := range m.Events {
		b = appendBytes(b, e)
	}
	return b
}

func (m *Push) decode(r *reader) {
	m.Epoch = r.u32()
	m.First = r.u64()
	n := r.count(2)
	if n > MaxPushEvents {
		r.fail("push of %d events, at most %d", n, MaxPushEvents)
		return
	}
	if n == 0 {
		return
	}
	m.Events = make([][]byte, n)
	for i := range m.Events {
		m.Events[i] = r.bytes()
		if r.err == nil && len(m.Events[i]) == 0 {
			r.fail("empty event")
		}
	}
}

// Verdict is the answer for one event of a push.
type Verdict struct {
	Outcome    uint8
	Original   uint8
	Exceptions []string
	Message    string
}

func appendVerdict(b []byte, v *Verdict) []byte {
	// The common case — applied, nothing to say — is one byte.
	plain := v.Original == 0 && len(v.Exceptions) == 0 && v.Message == ""
	if plain && v.Outcome < 0x80 {
		return append(b, v.Outcome)
	}
	b = append(b, v.Outcome|0x80, v.Original)
	b = appendStrings(b, v.Exceptions)
	return appendString(b, v.Message)
}

func decodeVerdict(r *reader, v *Verdict) {
	o := r.byte()
	v.Outcome = o &^ 0x80
	if o&0x80 == 0 {
		return
	}
	v.Original = r.byte()
	v.Exceptions = r.strings()
	v.Message = r.string()
	if v.Original == 0 && len(v.Exceptions) == 0 && v.Message == "" {
		r.fail("long form of a plain verdict")
	}
}

// PushAck answers a push, one verdict per event, in seq order from First.
type PushAck struct {
	Epoch    uint32
	First    uint64
	Verdicts []Verdict
}

// Type implements Message.
func (*PushAck) Type() Type { return TypePushAck }

func (m *PushAck) appendTo(b []byte) []byte {
	b = appendU64(b, uint64(m.Epoch))
	b = appendU64(b, m.First)
	return appendList(b, m.Verdicts, appendVerdict)
}

func (m *PushAck) decode(r *reader) {
	m.Epoch = r.u32()
	m.First = r.u64()
	m.Verdicts = readList(r, 1, decodeVerdict)
	if len(m.Verdicts) > MaxPushEvents {
		r.fail("ack of %d verdicts, at most %d", len(m.Verdicts), MaxPushEvents)
	}
}

// NackGap refuses a push that does not continue the device's sequence.
type NackGap struct {
	Epoch    uint32
	Expected uint64
}

// Type implements Message.
func (*NackGap) Type() Type { return TypeNackGap }

func (m *NackGap) appendTo(b []byte) []byte {
	b = appendU64(b, uint64(m.Epoch))
	return appendU64(b, m.Expected)
}

func (m *NackGap) decode(r *reader) {
	m.Epoch = r.u32()
	m.Expected = r.u64()
}

// Sub asks for the down-feed after Cursor, for the signed-in User. A SUB
// supersedes any earlier one on the connection.
type Sub struct {
	Cursor Cursor
	User   string
}

// Type implements Message.
func (*Sub) Type() Type { return TypeSub }

func (m *Sub) appendTo(b []byte) []byte {
	b = m.Cursor.appendTo(b)
	return appendString(b, m.User)
}

func (m *Sub) decode(r *reader) {
	m.Cursor.decode(r)
	m.User = r.string()
}

// Changes is one part of a change set; the set is complete at the part
// with Last set, which carries the cursor after it.
type Changes struct {
	Part    uint32
	Last    bool
	More    bool
	To      Cursor
	Records Records
}

// Type implements Message.
func (*Changes) Type() Type { return TypeChanges }

func (m *Changes) appendTo(b []byte) []byte {
	b = appendU64(b, uint64(m.Part))
	b = appendBool(b, m.Last)
	b = appendBool(b, m.More)
	b = m.To.appendTo(b)
	return m.Records.appendTo(b)
}

func (m *Changes) decode(r *reader) {
	m.Part = r.u32()
	m.Last = r.bool()
	m.More = r.bool()
	m.To.decode(r)
	m.Records.decode(r)
}

// Resync reasons.
const (
	ResyncNoCursor     uint8 = 1 // the device sent the zero cursor
	ResyncOtherCluster uint8 = 2 // the cursor is from another cluster
	ResyncTooOld       uint8 = 3 // the site can no longer serve the cursor
)

// Resync is one part of a snapshot the device rebuilds its replica from
// (never its outbox). The part with Last set carries the snapshot's
// cursor.
type Resync struct {
	Reason  uint8
	Part    uint32
	Last    bool
	Cursor  Cursor
	Records Records
}

// Type implements Message.
func (*Resync) Type() Type { return TypeResync }

func (m *Resync) appendTo(b []byte) []byte {
	b = append(b, m.Reason)
	b = appendU64(b, uint64(m.Part))
	b = appendBool(b, m.Last)
	b = m.Cursor.appendTo(b)
	return m.Records.appendTo(b)
}

func (m *Resync) decode(r *reader) {
	m.Reason = r.byte()
	m.Part = r.u32()
	m.Last = r.bool()
	m.Cursor.decode(r)
	m.Records.decode(r)
}

// Busy asks the device to come back after RetryAfterMillis. Answering a
// HELLO it refuses the session; answering a PUSH it refuses that push
// (and every push queued behind it).
type Busy struct {
	RetryAfterMillis uint32
}

// Type implements Message.
func (*Busy) Type() Type { return TypeBusy }

func (m *Busy) appendTo(b []byte) []byte { return appendU64(b, uint64(m.RetryAfterMillis)) }

func (m *Busy) decode(r *reader) { m.RetryAfterMillis = r.u32() }

// Ping is a keepalive carrying the sender's HLC.
type Ping struct {
	Clock uint64
}

// Type implements Message.
func (*Ping) Type() Type { return TypePing }

func (m *Ping) appendTo(b []byte) []byte { return binary.BigEndian.AppendUint64(b, m.Clock) }

func (m *Ping) decode(r *reader) { m.Clock = clock(r) }

// Pong answers a Ping with the answerer's HLC.
type Pong struct {
	Clock uint64
}

// Type implements Message.
func (*Pong) Type() Type { return TypePong }

func (m *Pong) appendTo(b []byte) []byte { return binary.BigEndian.AppendUint64(b, m.Clock) }

func (m *Pong) decode(r *reader) { m.Clock = clock(r) }

// Error reports a fault; the sender closes the connection after it.
type Error struct {
	Code uint16
	Text string
}

// Type implements Message.
func (*Error) Type() Type { return TypeError }

func (m *Error) appendTo(b []byte) []byte {
	b = appendU64(b, uint64(m.Code))
	return appendString(b, m.Text)
}

func (m *Error) decode(r *reader) {
	m.Code = r.u16()
	m.Text = r.string()
}

// Error codes. The numbers are sent: append only. A websocket close
// after an ERROR carries 4000+code.
const (
	CodeProtocol   uint16 = 1  // malformed frame
	CodeVersion    uint16 = 2  // unsupported envelope or protocol version
	CodeTooLarge   uint16 = 3  // frame over the limit
	CodeUnexpected uint16 = 4  // a message not allowed in this state
	CodeUnknown    uint16 = 5  // unknown message type
	CodeIdentity   uint16 = 6  // HELLO device differs from the certificate, or events from another device
	CodeFlow       uint16 = 7  // more pushes in flight than allowed
	CodeInternal   uint16 = 8  // the site failed
	CodeShutdown   uint16 = 9  // the server is going away
	CodeIdle       uint16 = 10 // nothing received for too long
	CodeForbidden  uint16 = 11 // the site does not serve this device
	CodeSuperseded uint16 = 12 // a newer connection of the same device took over
)

// CodeText names an error code.
func CodeText(c uint16) string {
	switch c {
	case CodeProtocol:
		return "protocol"
	case CodeVersion:
		return "version"
	case CodeTooLarge:
		return "too large"
	case CodeUnexpected:
		return "unexpected message"
	case CodeUnknown:
		return "unknown message type"
	case CodeIdentity:
		return "identity"
	case CodeFlow:
		return "flow control"
	case CodeInternal:
		return "internal"
	case CodeShutdown:
		return "shutdown"
	case CodeIdle:
		return "idle"
	case CodeForbidden:
		return "forbidden"
	case CodeSuperseded:
		return "superseded"
	}
	return "unknown"
}

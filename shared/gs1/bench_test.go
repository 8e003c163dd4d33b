package gs1

import "testing"

var benchPack = []byte("]d2010030001012345517270331" + "10A123\x1d" + "21SN12345")

// BenchmarkParsePack parses a typical pack scan: ]d2 + (01)(17)(10)(21) with GS.
func BenchmarkParsePack(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d, err := Parse(benchPack)
		if err != nil || len(d.Elements) != 4 {
			b.Fatal(d, err)
		}
	}
}

// BenchmarkParseAndIdentify adds the unit check a receiving step makes.
func BenchmarkParseAndIdentify(b *testing.B) {
	b.ReportAllocs()
	p := Policy{RequireLot: true, RequireExpiry: true}
	for b.Loop() {
		d, err := Parse(benchPack)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Identify(d, WantUnit, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDigitalLink(b *testing.B) {
	b.ReportAllocs()
	const uri = "https://id.gs1.org/01/00300010123455/10/A123/21/SN12345?17=270331"
	for b.Loop() {
		if _, err := ParseDigitalLink(uri); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkElementString(b *testing.B) {
	d, err := Parse(benchPack)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if s := d.ElementString(); len(s) == 0 {
			b.Fatal("empty")
		}
	}
}

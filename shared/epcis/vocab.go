package epcis

import "strings"

// vocab is one CBV vocabulary: its words and the two URI forms that carry
// them (the 1.2 URN and the 2.0 Web URI).
type vocab struct {
	name  string // for messages: "bizStep", "disposition", ...
	urn   string // "urn:epcglobal:cbv:bizstep:"
	web   string // "https://ref.gs1.org/cbv/BizStep-"
	words map[string]struct{}
}

func newVocab(name, urn, web string, words ...string) *vocab {
	v := &vocab{name: name, urn: urn, web: web, words: make(map[string]struct{}, len(words))}
	for _, w := range words {
		v.words[w] = struct{}{}
	}
	return v
}

// vocabs holds the CBV vocabularies. Built once by newVocabs and never
// written afterwards.
type vocabs struct {
	bizStep, disposition, btt, sdt, errReason *vocab
}

func newVocabs() *vocabs {
	return &vocabs{
		bizStep: newVocab("bizStep", "urn:epcglobal:cbv:bizstep:", "BizStep-",
			"accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
			"creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying",
			"disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting",
			"installing", "killing", "loading", "other", "packing", "picking", "receiving", "removing",
			"repackaging", "repairing", "replacing", "reserving", "retail_selling", "shipping",
			"staging_outbound", "stock_taking", "stocking", "storing", "transporting", "unloading",
			"unpacking", "void_shipping", "sensor_reporting", "sampling"),
		disposition: newVocab("disposition", "urn:epcglobal:cbv:disp:", "Disp-",
			"active", "container_closed", "damaged", "destroyed", "dispensed", "disposed", "encoded",
			"expired", "in_progress", "in_transit", "inactive", "no_pedigree_match", "non_sellable_other",
			"partially_dispensed", "recalled", "reserved", "retail_sold", "returned",
			"sellable_accessible", "sellable_not_accessible", "stolen", "unknown", "available",
			"completeness_verified", "completeness_inferred", "conformant", "container_open",
			"mismatch_instance", "mismatch_class", "mismatch_quantity", "needs_replacement",
			"non_conformant", "unavailable"),
		btt: newVocab("bizTransaction type", "urn:epcglobal:cbv:btt:", "BTT-",
			"bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma",
			"testprd", "testres", "upevt"),
		sdt: newVocab("source/destination type", "urn:epcglobal:cbv:sdt:", "SDT-",
			"owning_party", "possessing_party", "location"),
		errReason: newVocab("error reason", "urn:epcglobal:cbv:er:", "ER-",
			"did_not_occur", "incorrect_data"),
	}
}

// cbv holds the CBV vocabularies; built at init and only read afterwards.
var cbv = newVocabs()

// Web URI bases under which CBV 2.0 publishes its terms.
var cbvWebBases = [...]string{"https://ref.gs1.org/cbv/", "http://ref.gs1.org/cbv/", "cbv:"}

// canonical maps any accepted spelling of a vocabulary value to the
// model's canonical form: the bare word for CBV values, the URI unchanged
// for values of other namespaces. ok is false, with a reason, for unknown
// CBV words, bare words that are not CBV, and URIs in a CBV namespace that
// name no CBV term.
func (v *vocab) canonical(s string) (string, string, bool) {
	if s == "" {
		return s, "empty " + v.name, false
	}
	if _, ok := v.words[s]; ok {
		return s, "", true
	}
	if w, ok := strings.CutPrefix(s, v.urn); ok {
		if _, known := v.words[w]; known {
			return w, "", true
		}
		return s, "unknown CBV " + v.name + " " + quote(w), false
	}
	for _, base := range cbvWebBases {
		if rest, ok := strings.CutPrefix(s, base); ok {
			if w, ok := strings.CutPrefix(rest, v.web); ok {
				if _, known := v.words[w]; known {
					return w, "", true
				}
				return s, "unknown CBV " + v.name + " " + quote(w), false
			}
			return s, "unknown CBV term " + quote(rest), false
		}
	}
	if strings.HasPrefix(s, "urn:epcglobal:cbv:") {
		return s, "unknown CBV " + v.name + " " + quote(s), false
	}
	if !isURI(s) {
		return s, "unknown " + v.name + " " + quote(s) + " (not a CBV value and not a URI)", false
	}
	return s, "", true
}

// urnForm renders a canonical value for 1.2 XML.
func (v *vocab) urnForm(s string) string {
	if _, ok := v.words[s]; ok {
		return v.urn + s
	}
	return s
}

// isURI reports whether s is an absolute URI: a scheme, a colon, and no
// whitespace or control characters.
func isURI(s string) bool {
	i := strings.IndexByte(s, ':')
	if i < 1 || i == len(s)-1 {
		return false
	}
	c := s[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return false
	}
	for j := 1; j < i; j++ {
		c := s[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		if c <= ' ' || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}' {
			return false
		}
	}
	return true
}

func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return "\"" + s + "\""
}

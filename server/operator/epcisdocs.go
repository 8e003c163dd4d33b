package operator

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/shared/epcis"
)

// Documents gathered across sites (a records request, a period's
// EPCIS): each site's EPCIS answer, then one document out.

// formatOf is the ?format= of an EPCIS download (JSON-LD by default).
func formatOf(x *fiber.Ctx) (epcis.Format, error) {
	f := x.Query("format")
	if f == "" {
		return epcis.FormatJSONLD, nil
	}
	format, err := epcis.ParseFormat(f)
	if err != nil {
		return format, fmt.Errorf("%w: format: want jsonld or xml", ErrBadRequest)
	}
	return format, nil
}

// siteDocs keeps the EPCIS documents the sites answered; each site's
// reader adds its own.
type siteDocs struct {
	mu   sync.Mutex
	docs map[string]*epcis.Document
}

// add decodes a site's EPCIS answer and keeps it.
func (s *siteDocs) add(site string, a *siteAnswer, raw []byte) error {
	doc, err := epcis.DecodeJSON(raw)
	if err != nil {
		return fmt.Errorf("%w: EPCIS: %v", ErrAnswer, err)
	}
	a.Found = true
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.docs == nil {
		s.docs = map[string]*epcis.Document{}
	}
	s.docs[site] = doc
	return nil
}

// get is the document a site answered (nil when none): a reader that
// missed the deadline may still be adding its own.
func (s *siteDocs) get(site string) *epcis.Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.docs[site]
}

// incomplete is the refusal of a document some sites did not answer
// for; nil when every site answered.
func incomplete(answers []siteAnswer) error {
	var down []string
	for _, a := range answers {
		if a.Error != "" {
			down = append(down, a.SiteName+" ("+a.Error+")")
		}
	}
	if len(down) == 0 {
		return nil
	}
	return fiber.NewError(fiber.StatusServiceUnavailable, "the answer would be incomplete: not answering: "+strings.Join(down, ", "))
}

// sendDocument answers doc as a download named name (the extension
// follows the format).
func sendDocument(x *fiber.Ctx, doc *epcis.Document, format epcis.Format, name string) error {
	b, err := epcis.Encode(doc, format)
	if err != nil {
		return err
	}
	ct, ext := "application/ld+json", "jsonld"
	if format == epcis.FormatXML12 {
		ct, ext = "application/xml", "xml"
	}
	x.Set(fiber.HeaderContentType, ct)
	x.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s.%s"`, name, ext))
	x.Set(fiber.HeaderCacheControl, "no-store")
	return x.Send(b)
}

package compliance

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// PDF renders the Form 3911 draft as a filled document: the reporter,
// the product (name, NDC, lot, expiry, quantity, serials), the trading
// partners, the dates and the description, for a person to check
// against the form and send.
func (f *Form3911) PDF() ([]byte, error) {
	doc := fpdf.New("P", "mm", "Letter", "")
	doc.SetTitle("FDA Form 3911 draft "+f.Investigation, true)
	doc.SetCreator("Custody", true)
	// A fixed creation date: the same draft renders the same bytes.
	created := time.Unix(0, 0).UTC()
	if f.Determined != nil {
		created = *f.Determined
	}
	doc.SetCreationDate(created)
	doc.SetModificationDate(created)
	doc.SetAutoPageBreak(true, 15)
	doc.AddPage()
	tr := doc.UnicodeTranslatorFromDescriptor("")
	heading := func(s string) {
		doc.Ln(3)
		doc.SetFont("Helvetica", "B", 11)
		doc.CellFormat(0, 7, tr(s), "B", 1, "L", false, 0, "")
		doc.SetFont("Helvetica", "", 10)
	}
	field := func(label, value string) {
		if value == "" {
			value = "-"
		}
		doc.SetFont("Helvetica", "B", 9)
		doc.CellFormat(55, 6, tr(label), "", 0, "L", false, 0, "")
		doc.SetFont("Helvetica", "", 9)
		doc.MultiCell(0, 6, tr(value), "", "L", false)
	}
	date := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 MST")
	}
	doc.SetFont("Helvetica", "B", 14)
	doc.CellFormat(0, 9, "FDA Form 3911 - Drug Notification (DRAFT)", "", 1, "L", false, 0, "")
	doc.SetFont("Helvetica", "", 9)
	doc.MultiCell(0, 5, tr("Drafted from the site's records. Check every field against the form before it is sent, then mark the notification sent."), "", "L", false)

	heading("1. Notification")
	field("Type", "Illegitimate product")
	field("Investigation", f.Investigation)
	field("Status", f.Status)
	field("Determined illegitimate", date(f.Determined))
	field("Notify FDA by", date(f.Due))
	field("Time left", f.TimeLeft)

	heading("2. Reporter")
	field("Site", f.Reporter.Site)
	field("Name", f.Reporter.Name)
	field("GLN", f.Reporter.GLN)
	field("On behalf of (owner)", f.Client)

	heading("3. Product")
	for i, p := range f.Products {
		if i > 0 {
			doc.Ln(2)
		}
		field("Name", strings.TrimSpace(p.Name+" "+p.Strength+" "+p.Form))
		field("NDC", p.NDC)
		field("GTIN", p.GTIN)
		field("Lot", p.Lot)
		field("Expiry", p.Expiry)
		field("Quantity", fmt.Sprint(p.Quantity))
		field("Serial numbers", strings.Join(p.Serials, ", "))
	}
	if len(f.Products) == 0 {
		field("Product", "none on record")
	}

	heading("4. Trading partners")
	for _, p := range f.Partners {
		field(p.Role, strings.TrimSpace(p.Name+" ("+p.ID+") "+p.GLN))
	}
	if len(f.Partners) == 0 {
		field("Partners", "none on record")
	}

	heading("5. Description")
	doc.MultiCell(0, 5, tr(f.Description), "", "L", false)

	if len(f.Notices) > 0 {
		heading("6. Notifications sent")
		for _, n := range f.Notices {
			field(n.To, n.By+" at "+n.At.Time().UTC().Format("2006-01-02 15:04 MST"))
		}
	}
	var b bytes.Buffer
	if err := doc.Output(&b); err != nil {
		return nil, fmt.Errorf("form 3911 pdf: %w", err)
	}
	return b.Bytes(), nil
}

package console

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/certs"
	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

type devicesView struct {
	Devices []deviceRow
	Revoked map[string]bool // device ids revoked (a template's if on a struct is always true)
	CanMint bool
	// A token just minted: shown once.
	Token   string
	Line    string
	QR      template.URL // data: URL of the QR code PNG (made here, not from input)
	Expires time.Time
	Label   string
}

func needAdmin(u *master.User) error {
	if u.Role != master.RoleAdmin {
		return fmt.Errorf("%w: devices and users are for admins", ErrForbidden)
	}
	return nil
}

func (c *Console) devicesView(x *fiber.Ctx) (devicesView, error) {
	v := devicesView{Revoked: map[string]bool{}, CanMint: c.cfg.Mint != nil}
	c.floor.mu.Lock()
	seen := make(map[string]deviceSeen, len(c.floor.devices))
	for k, d := range c.floor.devices {
		seen[k] = d
	}
	c.floor.mu.Unlock()
	var err error
	if v.Devices, err = c.deviceRows(seen); err != nil {
		return v, err
	}
	err = c.node.State().View(func(r *state.Reader) error {
		rs, err := r.RevokedDevices()
		for _, d := range rs {
			v.Revoked[d.Device] = true
		}
		return err
	})
	return v, err
}

func (c *Console) devicesPage(x *fiber.Ctx) error {
	if err := needAdmin(currentUser(x)); err != nil {
		return err
	}
	v, err := c.devicesView(x)
	if err != nil {
		return err
	}
	return c.render(x, "devices", "Devices", v)
}

// enrollToken mints a one-time enrollment token and shows the line a
// handheld takes, as text and as a QR code its camera reads.
func (c *Console) enrollToken(x *fiber.Ctx) error {
	u := currentUser(x)
	if err := needAdmin(u); err != nil {
		return err
	}
	if c.cfg.Mint == nil {
		return fmt.Errorf("%w: this node enrolls no handhelds (it runs without --tls)", ErrBadRequest)
	}
	ttl := 24 * time.Hour
	if s := x.FormValue("ttl"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%w: valid for: want a duration such as 1h or 24h", ErrBadRequest)
		}
		ttl = d
	}
	tok, exp, fp, err := c.cfg.Mint(x.UserContext(), u.ID, x.FormValue("label"), ttl)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	v, err := c.devicesView(x)
	if err != nil {
		return err
	}
	server := c.cfg.Enroll
	if server == "" {
		server = "https://" + x.Hostname()
	}
	v.Token, v.Expires, v.Label = tok, exp, x.FormValue("label")
	v.Line = EnrollLine(server, tok, fp)
	img, err := enrollQR(v.Line)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return err
	}
	v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes()))
	x.Set(fiber.HeaderCacheControl, "no-store")
	return c.render(x, "devices", "Devices", v)
}

// EnrollLine is what a handheld is given to enroll: the custody-hh
// command line with the site, the token and the CA fingerprint.
func EnrollLine(server, token, caFingerprint string) string {
	return "custody-hh enroll -server " + server + " -token " + token + " -ca-fingerprint " + caFingerprint
}

func (c *Console) revokeDevice(x *fiber.Ctx) error {
	u := currentUser(x)
	if err := needAdmin(u); err != nil {
		return err
	}
	id, err := certs.ParseDeviceID(x.Params("id"))
	if err != nil {
		return fmt.Errorf("%w: only enrolled handhelds (with certificates) are revoked: %v", ErrBadRequest, err)
	}
	reason := strings.TrimSpace(x.FormValue("reason"))
	if reason == "" || len(reason) > 500 {
		return fmt.Errorf("%w: say why (up to 500 characters)", ErrBadRequest)
	}
	if err := c.propose(x.UserContext(), command.TypeRevokeDevice, command.RevokeDevice{Device: id.String(), By: u.ID, Reason: reason, At: c.cfg.Now().UTC()}); err != nil {
		return err
	}
	c.log.Warn("device revoked", "device", id.String(), "by", u.ID, "reason", reason)
	return x.Redirect("/devices?done="+url.QueryEscape("revoked "+id.Short()), fiber.StatusSeeOther)
}

package console

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/custodyhq/custody/server/command"
	"github.com/custodyhq/custody/server/password"
	"github.com/custodyhq/custody/server/state"
	"github.com/custodyhq/custody/shared/master"
)

type userRow struct {
	U           master.User
	HasPassword bool
	HasPIN      bool
	Disabled    bool
	Locked      bool
}

type usersView struct {
	Users   []userRow
	Clients []string
	Page    int
	More    bool
}

func (c *Console) usersPage(x *fiber.Ctx) error {
	if err := needAdmin(currentUser(x)); err != nil {
		return err
	}
	v := usersView{Page: offsetPage(x)}
	now := c.cfg.Now()
	err := c.node.State().View(func(r *state.Reader) error {
		us, err := r.Users()
		if err != nil {
			return err
		}
		from, to := (v.Page-1)*pageSize, v.Page*pageSize
		v.More = len(us) > to
		for i, u := range us {
			if i < from || i >= to {
				continue
			}
			row := userRow{U: u, HasPIN: u.PIN != nil}
			row.U.PIN = nil
			if a, err := r.Account(u.ID); err == nil {
				row.HasPassword, row.Disabled, row.Locked = a.Password != nil, a.Disabled, a.Locked(now)
			}
			v.Users = append(v.Users, row)
		}
		cls, err := r.Clients(nil)
		for _, cl := range cls {
			v.Clients = append(v.Clients, cl.ID)
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.render(x, "users", "Users", v)
}

// userAction changes a user: role and grants, PIN, password, disable
// and enable.
func (c *Console) userAction(x *fiber.Ctx) error {
	admin := currentUser(x)
	if err := needAdmin(admin); err != nil {
		return err
	}
	id := x.Params("id")
	var u master.User
	if err := c.node.State().View(func(r *state.Reader) error { var err error; u, err = r.User(id); return err }); err != nil {
		return err
	}
	ctx := x.UserContext()
	var done string
	switch x.FormValue("action") {
	case "role":
		role := master.Role(x.FormValue("role"))
		if role != master.RoleOperator && role != master.RoleLead && role != master.RoleAdmin {
			return fmt.Errorf("%w: role: want operator, lead or admin", ErrBadRequest)
		}
		var grants []string
		for _, g := range strings.FieldsFunc(x.FormValue("clients"), func(r rune) bool { return r == ',' || r == ' ' }) {
			if !slices.Contains(grants, g) {
				grants = append(grants, g)
			}
		}
		if u.ID == admin.ID && role != master.RoleAdmin {
			return fmt.Errorf("%w: you cannot take your own admin role", ErrBadRequest)
		}
		u.Role, u.Clients = role, grants
		if err := c.propose(ctx, command.TypeUser, u); err != nil {
			return err
		}
		done = "role and clients saved"
	case "pin":
		pin := x.FormValue("pin")
		if len(pin) < 4 || len(pin) > 12 || !digitsOnly(pin) {
			return fmt.Errorf("%w: a PIN has 4 to 12 digits", ErrBadRequest)
		}
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return err
		}
		v, err := master.NewPINVerifier(pin, salt)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		u.PIN = v
		if err := c.propose(ctx, command.TypeUser, u); err != nil {
			return err
		}
		done = "PIN set"
	case "password":
		pw := x.FormValue("password")
		v, err := password.New(pw)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadRequest, strings.TrimPrefix(err.Error(), "password: not accepted: "))
		}
		if err := c.propose(ctx, command.TypePassword, command.SetPassword{User: id, Password: v, By: admin.ID, At: c.cfg.Now().UTC()}); err != nil {
			return err
		}
		done = "password set"
	case command.AccountDisable, command.AccountEnable:
		act := x.FormValue("action")
		if id == admin.ID && act == command.AccountDisable {
			return fmt.Errorf("%w: you cannot disable yourself", ErrBadRequest)
		}
		if err := c.propose(ctx, command.TypeAccount, command.AccountChange{User: id, Action: act, By: admin.ID, At: c.cfg.Now().UTC()}); err != nil {
			return err
		}
		done = act + "d"
	default:
		return fmt.Errorf("%w: unknown action", ErrBadRequest)
	}
	return x.Redirect("/users?done="+url.QueryEscape(id+": "+done), fiber.StatusSeeOther)
}

package admin

import (
	"errors"
	"net/http"

	"github.com/sportello/sportello/internal/convention"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/store"
)

// conventionSources wires each section of the convention kit to the
// console's stores, as `hub convention export` does to the hub file's.
func (c *Console) conventionSources() (convention.Sources, convention.City, error) {
	city := convention.City{Comune: "Comune di " + c.City}
	if c.Settings != nil {
		cfg, err := c.Settings.Current()
		if err != nil {
			return convention.Sources{}, convention.City{}, err
		}
		city.Office, city.Address = cfg.Office, cfg.Address
	}
	src := c.Kit
	src.Operators, src.Audit = c.Operators, store.AuditLog{S: c.Stores}
	return src, city, nil
}

// conventionKit downloads the operator's convention kit as one zip: the
// same files `hub convention export` writes, for the agreement's whole
// period up to today.
func (c *Console) conventionKit(w http.ResponseWriter, r *http.Request) {
	src, city, err := c.conventionSources()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	now := c.now()
	k, err := convention.Gather(src, city, r.PathValue("id"), convention.Period{}, now)
	switch {
	case errors.Is(err, convention.ErrNoAgreement):
		c.fail(w, r, refused(fault.Conflict, "no_agreement"))
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	files, err := k.Files()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	dir := convention.DirName(k.Operator.ID, now)
	zip, err := convention.Zip(dir, files, now)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	download(w, "application/zip", dir+".zip", zip)
}

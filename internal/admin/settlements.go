package admin

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/sportello/sportello/internal/admin/staff"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/fees"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/pdffont"
	"github.com/sportello/sportello/internal/protocol"
	"github.com/sportello/sportello/internal/retention"
	"github.com/sportello/sportello/internal/settlement"
)

// csvFormatOf reads ?sep=: the Italian format (';' and decimal commas) by
// default or with "semicolon", the comma one (',' and decimal points)
// with "comma".
func csvFormatOf(r *http.Request) (settlement.CSVFormat, error) {
	switch r.URL.Query().Get("sep") {
	case "", "semicolon":
		return settlement.ItalianCSV, nil
	case "comma":
		return settlement.CommaCSV, nil
	}
	return 0, refused(fault.Invalid, "csv_separator_unknown", r.URL.Query().Get("sep"))
}

// monthOf reads ?month=YYYY-MM, this month by default.
func (c *Console) monthOf(r *http.Request) (settlement.Month, error) {
	if s := r.URL.Query().Get("month"); s != "" {
		return settlement.ParseMonth(s)
	}
	return settlement.MonthOf(c.now()), nil
}

func (c *Console) settle(o *operators.Operator, m settlement.Month) (settlement.Settlement, error) {
	from, to := m.Days()
	recs, err := c.Certs.ByOperator(o.ID, from, to)
	if err != nil {
		return settlement.Settlement{}, err
	}
	return settlement.Settle(settlement.Operator{ID: o.ID, Name: o.DisplayName(), District: c.Districts.Of(o.Address.CAP)}, m, recs)
}

// monthSettlements settles every operator with an agreement or with
// certificates that month; registry offices settle nothing.
func (c *Console) monthSettlements(m settlement.Month) (settlement.Amounts, []settlement.Settlement, error) {
	ops, err := c.Operators.List()
	if err != nil {
		return settlement.Amounts{}, nil, err
	}
	var ss []settlement.Settlement
	for _, o := range ops {
		if o.Category == operators.RegistryOffice {
			continue
		}
		s, err := c.settle(o, m)
		if err != nil {
			return settlement.Amounts{}, nil, err
		}
		if s.Certificates == 0 && (o.Agreement == nil || o.Status == operators.Applied) {
			continue
		}
		ss = append(ss, s)
	}
	return settlement.Total(ss), ss, nil
}

type settlementsData struct {
	Month, Prev, Next settlement.Month
	Rows              []settlement.Settlement
	Districts         []settlement.DistrictTotal
	Total             settlement.Amounts
}

func (c *Console) settlementsPage(w http.ResponseWriter, r *http.Request) {
	m, err := c.monthOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	total, ss, err := c.monthSettlements(m)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := c.newView(r, "nav.settlements")
	v.Data = settlementsData{Month: m, Prev: m.Prev(), Next: m.Next(), Rows: ss, Districts: settlement.ByDistrict(ss), Total: total}
	c.render(w, r, http.StatusOK, "settlements", v)
}

func (c *Console) settlementsCSV(w http.ResponseWriter, r *http.Request) {
	m, err := c.monthOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	format, err := csvFormatOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	_, ss, err := c.monthSettlements(m)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := settlement.WriteSummaryCSV(&buf, m, ss, format); err != nil {
		c.fail(w, r, err)
		return
	}
	download(w, "text/csv; charset=utf-8", fmt.Sprintf("rendiconto-%s.csv", m), buf.Bytes())
}

func (c *Console) oneSettlement(r *http.Request) (*operators.Operator, settlement.Settlement, error) {
	m, err := c.monthOf(r)
	if err != nil {
		return nil, settlement.Settlement{}, err
	}
	o, err := c.Operators.Get(r.PathValue("id"))
	if err != nil {
		return nil, settlement.Settlement{}, err
	}
	s, err := c.settle(o, m)
	return o, s, err
}

func (c *Console) settlementPage(w http.ResponseWriter, r *http.Request) {
	o, s, err := c.oneSettlement(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := c.newView(r, "settlement.title")
	v.Title = fmt.Sprintf("%s — %s", o.DisplayName(), s.Month)
	v.Data = struct {
		Op         *operators.Operator
		S          settlement.Settlement
		Prev, Next settlement.Month
	}{o, s, s.Month.Prev(), s.Month.Next()}
	c.render(w, r, http.StatusOK, "settlement", v)
}

func (c *Console) settlementCSV(w http.ResponseWriter, r *http.Request) {
	format, err := csvFormatOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	o, s, err := c.oneSettlement(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := settlement.WriteCSV(&buf, s, format); err != nil {
		c.fail(w, r, err)
		return
	}
	download(w, "text/csv; charset=utf-8", fmt.Sprintf("rendiconto-%s-%s.csv", o.ID, s.Month), buf.Bytes())
}

func (c *Console) settlementPDF(w http.ResponseWriter, r *http.Request) {
	o, s, err := c.oneSettlement(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pdf, err := SettlementPDF(c.City, o, s, c.now())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	download(w, "application/pdf", fmt.Sprintf("rendiconto-%s-%s.pdf", o.ID, s.Month), pdf)
}

func download(w http.ResponseWriter, ctype, name string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Header().Set("Cache-Control", "no-store") // nosniff: baseHeaders
	w.Write(body)
}

// SettlementPDF renders one operator's monthly settlement on A4 with the
// certificate renderer's embedded DejaVu Sans.
func SettlementPDF(city string, o *operators.Operator, s settlement.Settlement, now interface{ Format(string) string }) ([]byte, error) {
	f, err := pdffont.NewA4("P")
	if err != nil {
		return nil, err
	}
	f.SetTitle("Rendiconto "+o.ID+" "+s.Month.String(), true)
	f.SetMargins(18, 18, 18)
	f.SetAutoPageBreak(true, 18)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-14)
		f.SetFont("dejavu", "", 8)
		f.CellFormat(0, 5, fmt.Sprintf("%s · rendiconto %s %s · pagina %d di {nb}", city, o.ID, s.Month, f.PageNo()), "", 0, "C", false, 0, "")
	})
	f.AddPage()
	f.SetFont("dejavu", "B", 15)
	f.CellFormat(0, 8, city, "", 1, "L", false, 0, "")
	f.SetFont("dejavu", "B", 12)
	f.CellFormat(0, 7, "Rendiconto mensile dell'esercente — "+monthName(s.Month), "", 1, "L", false, 0, "")
	f.Ln(2)
	f.SetFont("dejavu", "", 10)
	for _, kv := range [][2]string{
		{"Esercente", fmt.Sprintf("%s (%s)", o.DisplayName(), o.ID)},
		{"Ragione sociale", o.LegalName},
		{"Partita IVA", o.PartitaIVA},
		{"Indirizzo", o.Address.String()},
		{"Zona", s.Operator.District},
		{"Redatto il", now.Format("02/01/2006 15:04")},
	} {
		f.SetFont("dejavu", "B", 10)
		f.CellFormat(40, 6, kv[0], "", 0, "L", false, 0, "")
		f.SetFont("dejavu", "", 10)
		f.CellFormat(0, 6, kv[1], "", 1, "L", false, 0, "")
	}
	f.Ln(3)
	f.SetFont("dejavu", "B", 11)
	f.CellFormat(0, 7, "Riepilogo", "", 1, "L", false, 0, "")
	f.SetFont("dejavu", "", 10)
	sum := [][2]string{
		{"Certificati rilasciati", fmt.Sprintf("%d (di cui revocati %d)", s.Certificates, s.Revoked)},
		{"Imposta di bollo incassata, dovuta allo Stato", fees.Euro(s.BolloCents)},
		{"Diritti di segreteria incassati, dovuti al Comune", fees.Euro(s.DirittiCents)},
		{"Corrispettivi di servizio trattenuti dall'esercente", fees.Euro(s.ServiceCents)},
		{"Bollo pagato con contrassegno (non dovuto al Comune)", fees.Euro(s.ContrassegnoCents)},
		{"Totale incassato dai cittadini", fees.Euro(s.CollectedCents)},
	}
	if s.PagoPACents > 0 {
		// Self-service sales paid with a pagoPA notice: the city holds
		// that money already (issue 15).
		sum = append(sum, [2]string{"Incassato dal Comune con pagoPA (self-service)", fees.Euro(s.PagoPACents)},
			[2]string{"Da versare al Comune (bollo e diritti, meno quanto incassato con pagoPA)", fees.Euro(s.DueCents())})
	} else {
		sum = append(sum, [2]string{"Da versare al Comune (bollo e diritti)", fees.Euro(s.DueCents())})
	}
	for i, kv := range sum {
		style := ""
		if i == len(sum)-1 {
			style = "B"
		}
		f.SetFont("dejavu", style, 10)
		f.CellFormat(120, 6.5, kv[0], "B", 0, "L", false, 0, "")
		f.CellFormat(0, 6.5, kv[1], "B", 1, "R", false, 0, "")
	}
	f.Ln(4)
	f.SetFont("dejavu", "B", 11)
	f.CellFormat(0, 7, "Certificati", "", 1, "L", false, 0, "")
	widths := []float64{28, 26, 52, 16, 16, 16, 20}
	head := []string{"Protocollo", "Data", "Tipo", "Bollo", "Diritti", "Servizio", "Totale"}
	f.SetFont("dejavu", "B", 8.5)
	f.SetFillColor(230, 236, 245)
	for i, h := range head {
		align := "L"
		if i >= 3 {
			align = "R"
		}
		f.CellFormat(widths[i], 6, h, "B", 0, align, true, 0, "")
	}
	f.Ln(-1)
	f.SetFont("dejavu", "", 8.5)
	for _, l := range s.Lines {
		types := make([]string, len(l.Types))
		for i, t := range l.Types {
			types[i] = string(t)
		}
		typ := strings.Join(types, "+")
		if l.Revoked > 0 {
			typ += " (revocato)"
		}
		if len([]rune(typ)) > 34 {
			typ = string([]rune(typ)[:33]) + "…"
		}
		cells := []string{l.Protocol, l.Issued.In(protocol.Rome).Format("02/01 15:04"), typ,
			settlement.Euro(l.BolloCents), settlement.Euro(l.DirittiCents), settlement.Euro(l.ServiceCents), settlement.Euro(l.CollectedCents)}
		for i, cell := range cells {
			align := "L"
			if i >= 3 {
				align = "R"
			}
			f.CellFormat(widths[i], 5.5, cell, "", 0, align, false, 0, "")
		}
		f.Ln(-1)
	}
	if len(s.Lines) == 0 {
		f.CellFormat(0, 6, "Nessun certificato rilasciato nel mese.", "", 1, "L", false, 0, "")
	}
	f.Ln(4)
	f.SetFont("dejavu", "", 8)
	f.MultiCell(0, 4.2, "Importi in euro. Il bollo è assolto dal Comune in modo virtuale (art. 15 DPR 642/1972) e riversato allo Stato; "+
		"i diritti di segreteria (L. 604/1962, tabella D) spettano al Comune; il corrispettivo di servizio è quello della convenzione, entro il tetto fissato dal Comune. "+
		"I certificati revocati restano nel rendiconto: la revoca corregge il documento, non il pagamento.", "", "L", false)
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("cannot render the settlement PDF: %w", err)
	}
	return buf.Bytes(), nil
}

var monthsIT = []string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}

func monthName(m settlement.Month) string { return fmt.Sprintf("%s %d", monthsIT[m.Month-1], m.Year) }

// feeRow is one operator's fee in the schedule.
type feeRow struct {
	Op       *operators.Operator
	FeeCents int
}

func (c *Console) feesPage(w http.ResponseWriter, r *http.Request) {
	c.showFees(w, r, nil)
}

// showFees renders the fee page, with msg as its error when not empty.
func (c *Console) showFees(w http.ResponseWriter, r *http.Request, refusal error) {
	ops, err := c.Operators.List()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var rows []feeRow
	for _, o := range ops {
		if o.Agreement != nil && o.Status != operators.Revoked {
			rows = append(rows, feeRow{o, o.Agreement.FeeCents})
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].FeeCents > rows[j].FeeCents })
	capCents, err := c.feeCap()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var history []city.Change
	if c.Settings != nil {
		stored, err := c.Settings.Stored()
		if err != nil {
			c.fail(w, r, err)
			return
		}
		history = stored.History
	}
	offline, err := c.offlineLimits()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	keep, err := c.retentionPolicy()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// The diritti are the city's, per channel, as the hub charges them.
	certs, err := c.certificateSettingsNow()
	if err != nil {
		c.fail(w, r, err)
		return
	}
	a, _ := authOf(r)
	v := c.newView(r, "nav.fees")
	v.Data = struct {
		Bollo        int64
		Cap          int
		CapInput     string
		CanEdit      bool
		History      []city.Change
		Reasons      []fees.Reason
		Rows         []feeRow
		Offline      operators.OfflineLimits
		Retention    retention.Policy
		Certificates certificateSettings
	}{fees.BolloCents, capCents, fees.Amount(int64(capCents), ',', 0),
		c.Settings != nil && a != nil && a.Role.Can(staff.ManageCity), history, fees.Reasons(), rows, offline, keep, certs}
	c.renderOr(w, r, "fees", v, refusal)
}

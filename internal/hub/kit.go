package hub

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/accesslog"
	"github.com/sportello/sportello/internal/city"
	"github.com/sportello/sportello/internal/clock"
	"github.com/sportello/sportello/internal/convention"
	"github.com/sportello/sportello/internal/hubapi"
	"github.com/sportello/sportello/internal/operators"
	"github.com/sportello/sportello/internal/retention"
)

// KitConfig is what the convention kit's sections read of a hub.
type KitConfig struct {
	City      *city.Settings
	Operators *operators.Service
	Clock     clock.Clock
	// API is the serving hub's API, whose settings (clerks required,
	// CSCAs) the kit reports; nil with Serving false.
	API *hubapi.Server
	// Channels are the serving hub's notice channels.
	Channels []string
	// Serving says whether the kit is made by a running hub, which alone
	// knows its serving settings.
	Serving bool
}

// KitSections wires the kit's sections whose features a hub may lack or
// switch off to what this hub applies; the console's download and hub
// convention export get the same.
func KitSections(k KitConfig) convention.Sources {
	src := convention.Sources{Retention: kitRetention{k.City}, Clerks: kitClerks{ops: k.Operators, now: clock.Or(k.Clock), api: k.API, serving: k.Serving}, Limits: kitLimits{k.City},
		Requester: kitRequesters{api: k.API, serving: k.Serving}, AccessLog: kitAccessLog{}}
	if !k.Serving || len(k.Channels) > 0 {
		src.Notices = kitNotices{serving: k.Serving, channels: k.Channels}
	}
	return src
}

// kitRetention is the city's retention policy (package retention) as the
// hub applies it: the daily job of hub serve and hub retention run.
type kitRetention struct{ cs *city.Settings }

func (k kitRetention) Retention() (convention.Retention, error) {
	cfg, err := k.cs.Current()
	if err != nil {
		return convention.Retention{}, err
	}
	p := cfg.Retention.Effective()
	return convention.Retention{RecordMonths: p.RecordsMonths, PDFDays: p.PDFDays, Other: []convention.Setting{
		{Label: "Periodo minimo", Value: fmt.Sprintf("%d mesi, come nel modello Polis: il sistema non accetta un periodo più breve", retention.MinRecordsMonths)},
		{Label: "Eliminazione", Value: "Ogni giorno il server elimina i dati di rilascio e le voci del registro degli accessi più vecchi del periodo; " +
			"del certificato restano solo l'identificativo e il giorno di rilascio, e la catena del registro resta verificabile dalle sue ancore firmate."},
		{Label: "PDF dopo la finestra", Value: "Eliminato; restano i dati del rilascio e l'impronta del documento, così la verifica del certificato stampato continua a funzionare."},
		{Label: "Registro di protocollo", Value: "Non eliminato: è il registro dei documenti del Comune (DPR 445/2000, artt. 53–57), conservato secondo le regole di archivio."},
	}}, nil
}

// kitNotices describes the notices of package notify as hub serve runs
// them (package hub).
type kitNotices struct {
	serving  bool
	channels []string
}

func (n kitNotices) Notices() ([]convention.Setting, error) {
	out := []convention.Setting{{Label: "Quando",
		Value: "Quando un certificato che riguarda una persona è rilasciato su richiesta di un altro componente della sua famiglia anagrafica, " +
			"l'avviso all'interessato è registrato nella stessa operazione del rilascio e recapitato con nuovi tentativi finché il canale lo accetta."}}
	if !n.serving {
		return append(out, convention.Setting{Label: "Canali",
			Value: "Attivi solo se il server è avviato con App IO o con un server di posta; questo kit è stato prodotto a server fermo, che non può dire quali lo siano."}), nil
	}
	var names []string
	for _, ch := range n.channels {
		switch ch {
		case "appio":
			names = append(names, "App IO (per codice fiscale)")
		case "email":
			names = append(names, "e-mail (all'indirizzo di contatto registrato in anagrafe)")
		default:
			names = append(names, ch)
		}
	}
	return append(out, convention.Setting{Label: "Canali", Value: strings.Join(names, "; ")}), nil
}

// kitClerks lists a shop's named clerks (operators.Clerk) with whether each
// may work today, and the rules of their log-in as this hub applies them.
type kitClerks struct {
	ops     *operators.Service
	now     func() time.Time
	api     *hubapi.Server
	serving bool
}

func (k kitClerks) Clerks(operatorID string) ([]convention.Clerk, error) {
	cs, err := k.ops.Clerks(operatorID)
	if err != nil {
		return nil, err
	}
	now := k.now()
	out := make([]convention.Clerk, 0, len(cs))
	for _, c := range cs {
		status := convention.StatusEnabled
		switch err := c.MayWork(operatorID, now); {
		case err == nil:
		case c.Status == operators.ClerkSuspended:
			status = "sospeso"
		case errors.Is(err, operators.ErrClerkExpired):
			status = "abilitazione scaduta"
		default:
			status = "non abilitato"
		}
		login := "CIE e PIN"
		if c.HasPassword() {
			login = "CIE e PIN, oppure password e codice TOTP"
		}
		out = append(out, convention.Clerk{Name: c.Name, CF: c.CF, TrainedOn: c.Trained, EnabledUntil: c.EnabledUntil, Status: status, Login: login})
	}
	return out, nil
}

func (k kitClerks) ClerkRules() ([]convention.Setting, error) {
	without := "Dipende dal server in funzione; questo kit è stato prodotto a server fermo, che non può dirlo."
	if k.serving && k.api != nil {
		if k.api.RequireClerk {
			without = "Il sistema rifiuta consultazioni e rilasci allo sportello."
		} else {
			without = "Il sistema non li rifiuta ancora: consultazioni e rilasci allo sportello senza addetto collegato sono registrati con il solo dispositivo."
		}
	}
	return []convention.Setting{
		{Label: "Accesso", Value: fmt.Sprintf("Con la propria CIE e il PIN al dispositivo dell'esercente, verificati dal sistema centrale; dove non c'è un lettore, con password personale e codice TOTP. Una sessione dura al più %d ore.", int(operators.MaxClerkSession.Hours()))},
		{Label: "Senza addetto collegato", Value: without},
		{Label: "Registro", Value: "Consultazioni e rilasci fatti con un addetto collegato ne registrano il nome nel registro degli accessi."},
	}, nil
}

// kitLimits are the city's thresholds (package limits) that hub serve's
// guard applies to every shop's devices and clerks, worded for the
// agreement.
type kitLimits struct{ cs *city.Settings }

func (k kitLimits) Limits(string) ([]convention.Setting, error) {
	cfg, err := k.cs.Current()
	if err != nil {
		return nil, err
	}
	l := cfg.Limits.Effective()
	return []convention.Setting{
		{Label: "Richieste al minuto", Value: fmt.Sprintf("%d per dispositivo, %d per addetto (su qualsiasi dispositivo), %d per esercente (tutti i dispositivi insieme)", l.DeviceRate, l.ClerkRate, l.ShopRate)},
		{Label: "Richieste al giorno", Value: fmt.Sprintf("%d per dispositivo, %d per addetto, %d per esercente", l.DeviceDaily, l.ClerkDaily, l.ShopDaily)},
		{Label: "Oltre il limite", Value: "La richiesta è respinta con l'indicazione di quando riprovare; le respinte sono registrate e contate."},
		{Label: "Orari", Value: "Rilasci solo negli orari di apertura dell'esercente registrati dal Comune."},
		{Label: "Raffica di richieste", Value: fmt.Sprintf("Richieste respinte per frequenza da un dispositivo in %d minuti: allerta a %d, sospensione del dispositivo a %d", l.FloodWindow, l.FloodAlert, l.FloodSuspend)},
		{Label: "Stessa persona", Value: fmt.Sprintf("Richieste sulla stessa persona dai dispositivi dell'esercente in %d minuti: allerta a %d, sospensione a %d", l.RepeatWindow, l.RepeatAlert, l.RepeatSuspend)},
		{Label: "Notte", Value: fmt.Sprintf("Richieste da un dispositivo tra le %d e le %d di una notte: allerta a %d, sospensione a %d", l.NightFrom%24, l.NightTo%24, l.NightAlert, l.NightSuspend)},
		{Label: "Rifiuti", Value: fmt.Sprintf("Quota di richieste rifiutate a un dispositivo in %d minuti, su almeno %d richieste: allerta al %d per cento, sospensione al %d per cento", l.RefusalWindow, l.RefusalMin, l.RefusalAlert, l.RefusalSuspend)},
		{Label: "Sospensione", Value: "Un dispositivo sospeso non può operare finché il personale del Comune non esamina l'allerta e lo riattiva, con una nota; le allerte compaiono nella console del Comune."},
	}, nil
}

// kitRequesters is who may obtain what through a shop and how the
// requester is identified, as the desk checks it in the issuing
// transaction (package identify; issuance.Service.Requester): self and
// household on every channel but the office, unless the agreement names a
// widening (operators.Agreement.Widening).
type kitRequesters struct {
	api     *hubapi.Server
	serving bool
}

func (k kitRequesters) Requesters(o *operators.Operator) (convention.Requesters, error) {
	cie := "CIE: il richiedente appoggia la propria carta; il sistema centrale verifica la risposta del chip a una sfida legata al dispositivo e al momento, " +
		"la catena dei certificati fino alla CSCA e che la carta sia valida e registrata in anagrafe. Al totem self-service serve anche il PIN della carta."
	var r convention.Requesters
	switch {
	case !k.serving:
		r.Identification = append(r.Identification, cie+" Il server la accetta se è avviato con l'elenco delle CSCA; questo kit è stato prodotto a server fermo, che non può dirlo.")
	case k.api != nil && len(k.api.CSCAs) > 0:
		r.Identification = append(r.Identification, cie)
	default:
		r.Identification = append(r.Identification, "CIE: non accettata da questo server, avviato senza l'elenco delle CSCA.")
	}
	r.Identification = append(r.Identification, "Solo allo sportello, dove l'addetto controlla il documento: codice fiscale e numero di un documento d'identità valido del richiedente, "+
		"che il sistema centrale confronta con quelli registrati in anagrafe.")
	if a := o.Agreement; a != nil && strings.TrimSpace(a.Widening) != "" {
		r.Widening = &convention.Widening{Scope: "Certificati anche su persone fuori dalla famiglia anagrafica del richiedente; il registro degli accessi riporta la base giuridica a ogni rilascio così consentito.",
			Basis: a.Widening}
	}
	return r, nil
}

// kitAccessLog is the citizen's own access log (package accesslog) as the
// hub serves it to the kiosk: POST /api/v1/access-log.
type kitAccessLog struct{}

func (kitAccessLog) AccessLog() ([]convention.Setting, error) {
	return []convention.Setting{
		{Label: "Cosa vede il cittadino", Value: "Ogni consultazione dei propri dati, ogni certificato che lo riguarda e ogni richiesta rifiutata che ha letto la sua scheda: quando, quale esercente o ufficio, quale addetto, quali dati e perché."},
		{Label: "Periodo", Value: fmt.Sprintf("Gli ultimi %d mesi, dal più recente.", accesslog.Window)},
		{Label: "Dove", Value: "Al totem self-service, dopo CIE e PIN («Chi ha consultato i miei dati»); allo sportello, stampato dall'addetto su richiesta del cittadino."},
		{Label: "Identificazione", Value: "Il sistema centrale identifica il cittadino con gli stessi mezzi del rilascio (sezione 5); ogni consultazione del registro è a sua volta registrata, con l'addetto che l'ha stampato."},
	}, nil
}

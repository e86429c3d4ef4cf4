package admin

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/fees"

	"github.com/sportello/sportello/internal/operators"
)

// languages: Italian first, the default; English for staff and visitors
// who need it.
var languages = []string{"it", "en"}

func validLang(l string) bool { return l == "it" || l == "en" }

func otherLang(l string) string {
	if l == "en" {
		return "it"
	}
	return "en"
}

// langOf is ?lang=, else the cookie set by the switch, else Italian.
func langOf(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); validLang(l) {
		return l
	}
	if ck, err := r.Cookie(langCookie); err == nil && validLang(ck.Value) {
		return ck.Value
	}
	return "it"
}

func tr(lang, key string) string {
	if m, ok := messages[key]; ok {
		if lang == "en" {
			return m[1]
		}
		return m[0]
	}
	return "[" + key + "]"
}

func trf(lang, key string, args ...any) string { return fmt.Sprintf(tr(lang, key), args...) }

func knownKey(lang, key string) bool { _, ok := messages[key]; return ok }

func romeZone() *time.Location { return operators.Rome }

func urlQuery(s string) string { return url.QueryEscape(s) }

// euro writes cents the Italian way: "16,00 €", "1.234,56 €".
func euro(cents int64) string { return fees.Amount(cents, ',', '.') + " €" }

func toCents(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	}
	return 0
}

func funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"t":         func(key string) string { return tr(lang, key) },
		"euro":      func(v any) string { return euro(toCents(v)) },
		"europlain": func(v any) string { return fees.Amount(toCents(v), ',', 0) },
		"when":      func(t time.Time) string { return t.In(operators.Rome).Format("02/01/2006 15:04") },
		"list":      func(xs ...int) []int { return xs },
		"lower":     strings.ToLower,
		// words turns a machine key ("esistenza_in_vita") into words.
		"words": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	}
}

// messages: key → {Italian, English}.
var messages = map[string][2]string{
	"skip":         {"Vai al contenuto", "Skip to content"},
	"console":      {"Console del personale", "Staff console"},
	"nav.lang":     {"Lingua", "Language"},
	"lang.other":   {"English", "Italiano"},
	"nav.main":     {"Sezioni", "Sections"},
	"logout":       {"Esci", "Sign out"},
	"back.home":    {"Torna alla pagina iniziale", "Back to the start page"},
	"error.detail": {"Dettaglio", "Detail"},
	"error.title":  {"Errore", "Error"},

	"nav.home": {"Riepilogo", "Overview"}, "nav.operators": {"Esercenti", "Operators"}, "nav.map": {"Mappa", "Map"},
	"nav.fees": {"Tariffe", "Fees"}, "nav.settlements": {"Rendiconti", "Settlements"}, "nav.activity": {"Attività", "Activity"},
	"nav.persons": {"Anagrafe", "Registry"}, "nav.audit": {"Registro accessi", "Access log"}, "nav.staff": {"Personale", "Staff"},
	"nav.account": {"Il mio account", "My account"},

	"nav.alerts": {"Allerte", "Alerts"}, "dash.alerts": {"allerte da esaminare", "alerts to review"},
	"done.reviewed": {"Dispositivo esaminato: allerte chiuse, riattivato se era sospeso.", "Device reviewed: alerts closed, reinstated if it was suspended."},
	"done.limits":   {"Limiti salvati.", "Limits saved."},
	"alerts.review": {"Dispositivi da esaminare", "Devices to review"},
	"alerts.reviewhelp": {"Oltre la prima soglia il hub segnala il dispositivo; oltre la seconda lo sospende finché il personale non lo esamina. L'esame chiude le allerte del dispositivo e, se sospeso, lo riattiva; la nota resta nella sua storia.",
		"Past the first threshold the hub flags a device; past the second it suspends it until staff review it. A review closes the device's alerts and, if it was suspended, reinstates it; the note stays in its history."},
	"alerts.device": {"Dispositivo", "Device"}, "alerts.shop": {"Esercente", "Operator"}, "alerts.open": {"Allerte aperte", "Open alerts"},
	"alerts.action": {"Esame", "Review"}, "alerts.note": {"Nota dell'esame", "Review note"},
	"alerts.reinstate": {"Esamina e riattiva", "Review and reinstate"}, "alerts.close": {"Esamina e chiudi", "Review and close"},
	"alerts.none": {"Nessuna allerta aperta.", "No open alerts."}, "alerts.list": {"Allerte", "Alerts"},
	"alerts.showall": {"Mostra anche quelle esaminate", "Show reviewed ones too"}, "alerts.onlyopen": {"Solo quelle aperte", "Open ones only"},
	"alerts.when": {"Quando", "When"}, "alerts.updated": {"aggiornata", "updated"}, "alerts.clerk": {"Operatore", "Clerk"},
	"alerts.kind": {"Tipo", "Kind"}, "alerts.level": {"Livello", "Level"}, "alerts.figures": {"Valori", "Figures"},
	"alerts.threshold": {"soglia", "threshold"}, "alerts.in": {"in", "in"}, "alerts.reviewed": {"Esame", "Review"},
	"alerts.nolist": {"Nessuna allerta.", "No alerts."},
	"alerts.limits": {"Limiti e soglie", "Limits and thresholds"},
	"alerts.limitshelp": {"Impostazioni del Comune (anche con hub city set --limit-…): valgono dalla richiesta successiva. Le finestre sono in minuti, le ore di notte da 1 a 24.",
		"City settings (also hub city set --limit-…): they apply from the next request. Windows are in minutes, night hours 1 to 24."},
	"alerts.setting": {"Impostazione", "Setting"}, "alerts.value": {"Valore", "Value"}, "alerts.new": {"Nuovo valore", "New value"},
	"alerts.default":        {"predefinito", "default"},
	"kind.flood":            {"raffica di richieste oltre il limite", "flood of rate-limited requests"},
	"kind.repeated_subject": {"stessa persona cercata più volte", "same subject asked about repeatedly"},
	"kind.night_burst":      {"richieste di notte", "night-time burst"},
	"kind.refusal_ratio":    {"quota di richieste rifiutate", "share of refused requests"},
	"level.alert":           {"allerta", "alert"}, "level.suspend": {"sospensione", "suspension"},
	"devst.active": {"attivo", "active"}, "devst.suspended": {"sospeso", "suspended"}, "devst.revoked": {"revocato", "revoked"}, "devst.": {"sconosciuto", "unknown"},
	"limit.device-rate":     {"Richieste al minuto per dispositivo", "Requests a minute per device"},
	"limit.clerk-rate":      {"Richieste al minuto per operatore", "Requests a minute per clerk"},
	"limit.shop-rate":       {"Richieste al minuto per esercente", "Requests a minute per shop"},
	"limit.device-daily":    {"Richieste al giorno per dispositivo", "Requests a day per device"},
	"limit.clerk-daily":     {"Richieste al giorno per operatore", "Requests a day per clerk"},
	"limit.shop-daily":      {"Richieste al giorno per esercente", "Requests a day per shop"},
	"limit.flood-window":    {"Raffica: finestra (minuti)", "Flood: window (minutes)"},
	"limit.flood-alert":     {"Raffica: richieste respinte per l'allerta", "Flood: rate-limited requests for an alert"},
	"limit.flood-suspend":   {"Raffica: richieste respinte per la sospensione", "Flood: rate-limited requests for suspension"},
	"limit.repeat-window":   {"Stessa persona: finestra (minuti)", "Same subject: window (minutes)"},
	"limit.repeat-alert":    {"Stessa persona: richieste per l'allerta", "Same subject: requests for an alert"},
	"limit.repeat-suspend":  {"Stessa persona: richieste per la sospensione", "Same subject: requests for suspension"},
	"limit.night-from":      {"Notte: dalle ore", "Night: from hour"},
	"limit.night-to":        {"Notte: alle ore", "Night: to hour"},
	"limit.night-alert":     {"Notte: richieste per l'allerta", "Night: requests for an alert"},
	"limit.night-suspend":   {"Notte: richieste per la sospensione", "Night: requests for suspension"},
	"limit.refusal-window":  {"Rifiuti: finestra (minuti)", "Refusals: window (minutes)"},
	"limit.refusal-min":     {"Rifiuti: richieste minime per contare", "Refusals: minimum requests to count"},
	"limit.refusal-alert":   {"Rifiuti: percentuale per l'allerta", "Refusals: percentage for an alert"},
	"limit.refusal-suspend": {"Rifiuti: percentuale per la sospensione", "Refusals: percentage for suspension"},

	"login.title":    {"Accesso del personale", "Staff sign-in"},
	"login.user":     {"Nome utente", "User name"},
	"login.password": {"Password", "Password"},
	"login.code":     {"Codice monouso (se attivato)", "One-time code (if enabled)"},
	"login.codehelp": {"Sei cifre dall'app di autenticazione.", "Six digits from your authenticator app."},
	"login.submit":   {"Accedi", "Sign in"},

	"role.admin": {"amministratore", "administrator"}, "role.clerk": {"addetto anagrafe", "registry clerk"},
	"role.finance": {"ragioneria", "finance"}, "role.auditor": {"revisore", "auditor"},

	"dash.figures": {"Cifre", "Figures"}, "dash.pending": {"domande in attesa", "pending applications"},
	"dash.active": {"esercenti attivi", "active operators"}, "dash.suspended": {"sospesi", "suspended"},
	"dash.devices": {"dispositivi", "devices"}, "dash.offline": {"non in linea", "offline"},
	"dash.today": {"certificati oggi", "certificates today"}, "dash.month": {"certificati nel mese", "certificates this month"},
	"dash.queue": {"Domande da esaminare", "Applications to review"}, "dash.noqueue": {"Nessuna domanda in attesa.", "No pending applications."},

	"filter": {"Filtra", "Filter"}, "save": {"Salva", "Save"}, "yes": {"sì", "yes"}, "no": {"no", "no"},
	"ops.filter": {"Stato", "Status"}, "ops.all": {"tutti", "all"}, "ops.caption": {"Esercenti e uffici, domande in attesa per prime", "Operators and offices, pending applications first"},
	"ops.id": {"Codice", "Id"}, "ops.name": {"Nome", "Name"}, "ops.category": {"Tipo", "Kind"}, "ops.address": {"Indirizzo", "Address"},
	"ops.status": {"Stato", "Status"}, "ops.devices": {"Dispositivi attivi", "Active devices"}, "ops.none": {"Nessun esercente.", "No operators."},

	"status.applied": {"domanda presentata", "applied"}, "status.approved": {"approvato", "approved"}, "status.active": {"attivo", "active"},
	"status.suspended": {"sospeso", "suspended"}, "status.revoked": {"revocato", "revoked"},
	"action.approved": {"Approva", "Approve"}, "action.active": {"Attiva", "Activate"}, "action.suspended": {"Sospendi", "Suspend"}, "action.revoked": {"Revoca", "Revoke"},
	"done.approved": {"Domanda approvata. Ora può emettere il codice di attivazione.", "Application approved. You can now issue the enrolment code."},
	"done.active":   {"Esercente attivato.", "Operator activated."}, "done.suspended": {"Esercente sospeso.", "Operator suspended."},
	"done.revoked": {"Esercente revocato.", "Operator revoked."}, "done.hours": {"Orari salvati.", "Hours saved."},
	"done.agreement": {"Convenzione salvata.", "Agreement saved."}, "done.device": {"Dispositivo revocato.", "Device revoked."},
	"done.staff": {"Account creato.", "Account created."}, "done.logout": {"Sessione chiusa.", "Signed out."},
	"done.totp_on": {"Codici monouso attivati.", "One-time codes enabled."}, "done.totp_off": {"Codici monouso disattivati.", "One-time codes disabled."},

	"cat.edicola": {"Edicola", "Newsagent"}, "cat.tabaccheria": {"Tabaccheria", "Tobacconist"}, "cat.cartoleria": {"Cartoleria", "Stationer"},
	"cat.access_point": {"Punto di accesso", "Access point"}, "cat.self_service_kiosk": {"Totem self-service", "Self-service kiosk"},
	"cat.registry_office": {"Ufficio anagrafe", "Registry office"},

	"operator.title": {"Esercente", "Operator"}, "op.details": {"Dati", "Details"}, "op.legal": {"Ragione sociale", "Legal name"},
	"op.piva": {"Partita IVA", "VAT number"}, "op.transit": {"Mezzi pubblici", "Public transport"},
	"op.agreement": {"Convenzione", "Agreement"}, "op.signed": {"Firmata il", "Signed"}, "op.expires": {"Scade il", "Expires"},
	"op.fee": {"Corrispettivo di servizio", "Service fee"}, "op.types": {"Certificati ammessi", "Certificates allowed"},
	"op.widening":      {"Oltre la famiglia anagrafica", "Beyond the household"},
	"op.widening.none": {"No: solo il richiedente e la sua famiglia anagrafica (DM Interno 3.11.2021 art. 2); si cambia con hub operator widening", "No: the requester and their own famiglia anagrafica only (DM Interno 3.11.2021 art. 2); changed with hub operator widening"},
	"op.noagreement":   {"Nessuna convenzione.", "No agreement."}, "op.actions": {"Azioni", "Actions"},
	"op.reason": {"Motivo", "Reason"}, "op.reasonhelp": {"Obbligatorio per sospendere o revocare: l'esercente lo leggerà.", "Required to suspend or revoke: the operator will read it."},
	"op.issuecode": {"Emetti codice di attivazione", "Issue enrolment code"},
	"op.newcode":   {"Codice di attivazione", "Enrolment code"}, "op.codeuntil": {"Valido una sola volta fino al", "Usable once until"},
	"op.codeonce": {"Lo comunichi all'esercente ora: non sarà più mostrato.", "Give it to the operator now: it will not be shown again."},
	"op.devices":  {"Dispositivi", "Devices"}, "op.codes": {"Codici emessi", "Codes issued"},
	"op.hours": {"Orari di apertura", "Opening hours"}, "op.hoursedit": {"Modifica orari", "Edit hours"},
	"op.hourshelp":     {"Un giorno o intervallo per riga, es. «lun-ven 07:00-12:30 15:00-19:00» o «sat 08:00-13:00»; i giorni non indicati sono chiusi.", "One day or range a line, e.g. \"mon-fri 07:00-12:30 15:00-19:00\" or \"sat 08:00-13:00\"; days not named are closed."},
	"op.holidays":      {"Aperto anche nei giorni festivi", "Open on public holidays too"},
	"op.agreementedit": {"Modifica convenzione", "Edit agreement"}, "op.history": {"Storico", "History"},
	"op.settlement": {"Rendiconto mensile", "Monthly settlement"},
	"op.kit":        {"Scarica il kit della convenzione", "Download the convention kit"},
	"op.kithelp":    {"Convenzione con i controlli, addetti, conservazione, estratto del registro degli accessi (CSV e PDF) e impronte SHA-256, in un file zip.", "The agreement with its controls, clerks, retention, the audit extract (CSV and PDF) and SHA-256 sums, in one zip file."},
	"dev.key":       {"Chiave", "Key"}, "dev.name": {"Nome", "Name"}, "dev.enrolled": {"Attivato il", "Enrolled"},
	"dev.last": {"Ultimo contatto", "Last contact"}, "dev.backlog": {"Coda offline", "Offline backlog"},
	"dev.never": {"mai", "never"}, "dev.offline": {"non in linea", "offline"}, "dev.notreported": {"non segnalata", "not reported"},
	"dev.oldest": {"in attesa dal", "waiting since"}, "dev.backlogempty": {"vuota", "empty"}, "dev.refused": {"rifiutate", "refused"}, "dev.reported": {"segnalata il", "reported"},
	"dev.active": {"attivo", "active"}, "dev.revoked": {"revocato", "revoked"}, "dev.revoke": {"Revoca", "Revoke"},
	"dev.none":    {"Nessun dispositivo attivato.", "No devices enrolled."},
	"clerk.title": {"Operatori abilitati", "Enabled clerks"},
	"clerk.help": {"Ogni persona che rilascia certificati al banco è abilitata per nome dopo la formazione e accede con la propria CIE e il PIN (o password e codice dove non c'è lettore). Una sospensione vale dalla richiesta successiva.",
		"Each person who issues certificates at the counter is enabled by name after training and logs in with their own CIE and PIN (or password and code where there is no reader). A suspension holds from the next request."},
	"clerk.id": {"Id", "Id"}, "clerk.name": {"Nome e cognome", "Name"}, "clerk.cf": {"Codice fiscale", "Codice fiscale"},
	"clerk.trained": {"Formazione", "Trained"}, "clerk.until": {"Abilitato fino al", "Enabled until"}, "clerk.login": {"Accesso", "Log-in"},
	"clerk.password": {"password e codice", "password and code"}, "clerk.active": {"abilitato", "enabled"}, "clerk.suspended": {"sospeso", "suspended"},
	"clerk.suspend": {"Sospendi", "Suspend"}, "clerk.reinstate": {"Riabilita", "Reinstate"}, "clerk.none": {"Nessun operatore abilitato.", "No clerks enabled."},
	"clerk.add": {"Abilita un operatore", "Enable a clerk"}, "clerk.enable": {"Abilita", "Enable"},
	"clerk.nis": {"NIS della CIE", "CIE NIS"}, "clerk.nishelp": {"solo per chi non risiede nel Comune", "only for a clerk who is not a resident"},
	"done.clerk_added": {"Operatore abilitato.", "Clerk enabled."}, "done.clerk_suspended": {"Operatore sospeso.", "Clerk suspended."},
	"done.clerk_active": {"Operatore riabilitato.", "Clerk reinstated."},
	"code.until":        {"valido fino al", "valid until"}, "code.used": {"usato il", "used on"},
	"hours.closed": {"chiuso", "closed"},
	"day.Mon":      {"lunedì", "Monday"}, "day.Tue": {"martedì", "Tuesday"}, "day.Wed": {"mercoledì", "Wednesday"}, "day.Thu": {"giovedì", "Thursday"},
	"day.Fri": {"venerdì", "Friday"}, "day.Sat": {"sabato", "Saturday"}, "day.Sun": {"domenica", "Sunday"},

	"map.title":    {"Mappa degli sportelli", "Map of the service points"},
	"map.desc":     {"%d sportelli disegnati dalle loro coordinate; la griglia è di un chilometro.", "%d service points drawn from their coordinates; the grid is one kilometre."},
	"map.operator": {"esercente", "operator"}, "map.office": {"ufficio anagrafe", "registry office"}, "map.table": {"Sportelli sulla mappa", "Service points on the map"},

	"fees.schedule": {"Tariffe per certificato", "Fees per certificate"}, "fees.item": {"Voce", "Item"}, "fees.amount": {"Importo", "Amount"},
	"fees.basis": {"Riferimento", "Legal basis"}, "fees.bollo": {"Imposta di bollo", "Stamp duty (bollo)"},
	"fees.diritti": {"Diritti di segreteria", "Secretariat fees (diritti)"}, "fees.dirittiexempt": {"Diritti di segreteria, certificato esente da bollo", "Secretariat fees, certificate exempt from bollo"},
	"fees.cap": {"Tetto al corrispettivo dell'esercente", "Cap on the operator's service fee"}, "fees.capbasis": {"fissato dal Comune nelle convenzioni", "set by the city in its agreements"},
	"fees.operators": {"Corrispettivi degli esercenti", "Operators' service fees"}, "fees.exemptions": {"Esenzioni dal bollo (tabella ANPR)", "Bollo exemptions (ANPR table)"},
	"fees.capedit": {"Nuovo tetto (euro)", "New cap (euro)"}, "fees.capsave": {"Cambia il tetto", "Change the cap"},
	"fees.caphelp": {"Non può scendere sotto il corrispettivo di una convenzione in vigore.", "It cannot go below the fee of an agreement in force."},
	"fees.history": {"Modifiche alle impostazioni del Comune", "Changes to the city's settings"},
	"fees.when":    {"Quando", "When"}, "fees.who": {"Chi", "Who"}, "fees.what": {"Cosa", "What"},
	"done.feecap":       {"Tetto al corrispettivo aggiornato.", "Fee cap updated."},
	"fees.national":     {"importo nazionale", "national amount"},
	"fees.dirittinote":  {"I diritti di segreteria sono quelli che il Comune applica su ciascun canale; «importo nazionale» segna gli importi della tabella D (0,52 € in bollo, 0,26 € in esenzione) che il Comune non ha cambiato.", "The diritti are those the city charges on each channel; «national amount» marks table D's amounts (0,52 € in bollo, 0,26 € exempt) the city has not changed."},
	"fees.dirittititle": {"Diritti di segreteria per canale", "Diritti di segreteria per channel"},
	"fees.dirittihelp":  {"Importo sul certificato in bollo e su quello esente da bollo (di norma la metà). Solo il chiosco self-service può non applicare diritti (0,00). Il hub li applica dal rilascio successivo; ogni chiosco li riceve con la convenzione e ne mostra il totale prima della conferma.", "Amount on a certificate in bollo and on one exempt from bollo (usually half). Only the self-service kiosk may charge none (0,00). The hub charges them from the next issuance; each kiosk receives them with its agreement and shows the total before confirmation."},
	"fees.channel":      {"Canale", "Channel"}, "fees.inbollo": {"In bollo", "In bollo"}, "fees.exempt": {"Esente da bollo", "Exempt from bollo"},
	"fees.dirittisave":   {"Cambia i diritti", "Change the diritti"},
	"fees.bollotitle":    {"Imposta di bollo", "Stamp duty (bollo)"},
	"fees.bolloauth":     {"Autorizzazione al bollo virtuale (Agenzia delle Entrate)", "Authorisation to pay the bollo virtually (Agenzia delle Entrate)"},
	"fees.bolloauthhelp": {"Nella forma «n. NUMERO del GG/MM/AAAA»: si stampa su ogni certificato in bollo (art. 15 DPR 642/1972). Con il campo vuoto non si stampa.", "As «n. NUMBER del DD/MM/YYYY»: it is printed on every certificate in bollo (art. 15 DPR 642/1972). Left empty, nothing is printed."},
	"fees.none":          {"non impostato", "not set"},
	"fees.lawexempt":     {"Certificati di nascita, matrimonio e unione civile", "Birth, marriage and civil union certificates"},
	"fees.lawexemptoff":  {"in bollo, come li rilascia ANPR (predefinito)", "in bollo, as ANPR issues them (default)"},
	"fees.lawexempton":   {"esenti da bollo e diritti (art. 7, comma 5, L. 405/1990)", "exempt from bollo and diritti (art. 7, comma 5, L. 405/1990)"},
	"fees.bollosave":     {"Salva il bollo", "Save the bollo settings"},
	"fees.certtitle":     {"Firma e registro dei certificati", "Signature and register of certificates"},
	"fees.certhelp":      {"L'ufficiale d'anagrafe delegato e l'atto di delega si stampano su ogni certificato, con la norma per cui il sigillo elettronico del Comune sostituisce la firma; i codici IPA, AOO e del registro compongono il numero di registro di ogni certificato (art. 53, comma 5, DPR 445/2000).", "The delegated registry officer and the delegation are printed on every certificate, with the rule under which the city's electronic seal replaces the signature; the IPA, AOO and register codes make up every certificate's register number (art. 53, comma 5, DPR 445/2000)."},
	"fees.cert.officer":  {"Ufficiale d'anagrafe delegato", "Delegated registry officer"}, "fees.cert.delegation": {"Atto di delega", "Delegation"},
	"fees.cert.seal_rule": {"Norma del sigillo elettronico", "Electronic seal rule"}, "fees.cert.ipa": {"Codice IPA dell'ente", "Indice PA code"},
	"fees.cert.aoo": {"Codice AOO", "AOO code"}, "fees.cert.register": {"Codice del registro", "Register code"},
	"fees.cert.office": {"Nome dell'ufficio", "Office name"}, "fees.cert.address": {"Indirizzo dell'ufficio", "Office address"},
	"fees.cert.bollo_authorisation": {"Autorizzazione al bollo virtuale", "Virtual bollo authorisation"},
	"fees.certex.officer":           {"Maria Rossi", "Maria Rossi"}, "fees.certex.delegation": {"decreto sindacale n. 12 del 03/02/2025", "decreto sindacale n. 12 del 03/02/2025"},
	"fees.certex.seal_rule": {"art. 20 D.Lgs. 82/2005 e art. 35 Reg. UE 910/2014", "art. 20 D.Lgs. 82/2005 e art. 35 Reg. UE 910/2014"},
	"fees.certex.ipa":       {"c_f205", "c_f205"}, "fees.certex.aoo": {"A1B2C3D", "A1B2C3D"}, "fees.certex.register": {"CERT", "CERT"},
	"fees.certsave":  {"Salva firma e registro", "Save signature and register"},
	"fees.certempty": {"Un campo svuotato torna al valore predefinito.", "A field emptied returns to its default."},
	"done.diritti":   {"Diritti di segreteria aggiornati.", "Diritti updated."}, "done.bollo": {"Impostazioni del bollo aggiornate.", "Bollo settings updated."},
	"done.certificates": {"Firma e registro dei certificati aggiornati.", "Certificates' signature and register updated."},
	"fees.offline":      {"Limiti delle vendite fuori linea", "Offline sales limits"},
	"fees.offlinehelp": {"Quanto un chiosco può accettare mentre non raggiunge il Comune, come un terminale di pagamento: ogni chiosco li riceve con la convenzione al collegamento successivo e rifiuta, dicendo quale limite, la vendita che lo supererebbe.",
		"What a kiosk may take while it cannot reach the city's hub, like a payment terminal: each kiosk receives them with its agreement when it next connects, and refuses, naming the limit, a sale that would pass one."},
	"fees.limit": {"Limite", "Limit"}, "fees.euro": {"euro", "euro"},
	"fees.offlinesale":  {"Importo massimo di una vendita", "Most one sale may collect"},
	"fees.offlinetotal": {"Importo massimo in attesa", "Most all waiting sales may collect"},
	"fees.offlinecount": {"Vendite in attesa al massimo", "Most sales waiting"},
	"fees.offlinehours": {"Ore di attesa al massimo della più vecchia", "Most hours the oldest may wait"},
	"fees.offlinesave":  {"Cambia i limiti", "Change the limits"},
	"fees.offlineempty": {"I campi lasciati vuoti restano come sono.", "Fields left empty stay as they are."},
	"done.offline":      {"Limiti delle vendite fuori linea aggiornati.", "Offline sales limits updated."},
	"fees.retention":    {"Conservazione dei dati", "Data retention"},
	"fees.retentionhelp": {"Le registrazioni dei rilasci e le voci del registro degli accessi si conservano per il periodo indicato (almeno 36 mesi, come nel modello Polis: DL 50/2022 art. 38, parere del Garante n. 493/2023), poi sono cancellate ogni giorno; del certificato restano l'identificativo e il giorno di rilascio. I PDF si possono scaricare di nuovo solo nella finestra indicata; poi restano la registrazione e l'impronta del documento. Il registro di protocollo non si cancella: segue le proprie regole di conservazione.",
		"Issuance records and the access log's entries are kept for the period shown (at least 36 months, as in the Polis model: DL 50/2022 art. 38, Garante opinion 493/2023), then deleted daily; of a certificate only its id and issue day stay. PDFs can be downloaded again only within the window shown; then the record and the document's hash stay. The protocol register is never purged: it follows its own archival rules."},
	"fees.retentionmonths": {"Mesi di conservazione delle registrazioni", "Months issuance records are kept"},
	"fees.retentiondays":   {"Giorni in cui il PDF si può riscaricare", "Days a PDF can be downloaded again"},
	"fees.retentionsave":   {"Cambia la conservazione", "Change retention"},
	"done.retention":       {"Periodi di conservazione aggiornati.", "Retention periods updated."},
	"set.pdfgone":          {"PDF non più conservato", "PDF no longer kept"},
	"fees.code":            {"Codice", "Code"}, "fees.use": {"Uso", "Use"}, "fees.waives": {"Esenta anche dai diritti", "Waives diritti too"},

	"set.months": {"Mesi", "Months"}, "set.summarycsv": {"Scarica il riepilogo (CSV)", "Download the summary (CSV)"},
	"set.caption": {"Rendiconti degli esercenti,", "Operators' settlements,"}, "set.district": {"Zona", "District"},
	"set.certs": {"Certificati", "Certificates"}, "set.bollo": {"Bollo (allo Stato)", "Bollo (to the State)"},
	"set.diritti": {"Diritti (al Comune)", "Diritti (to the city)"}, "set.service": {"Servizio (all'esercente)", "Service (kept by operator)"},
	"set.due": {"Da versare", "Due"}, "set.files": {"File", "Files"}, "set.none": {"Nessun esercente da rendicontare.", "No operator to settle."},
	"set.total": {"Totale", "Total"}, "set.districts": {"Totali per zona", "Totals per district"},
	"set.districtnote": {"La zona è ricavata dal CAP dell'indirizzo dell'esercente.", "The district is derived from the CAP (postcode) of the operator's address."},
	"set.operators":    {"Esercenti", "Operators"}, "set.collected": {"Incassato", "Collected"},
	"set.pagopa":     {"Incassato dal Comune con pagoPA (tolto dal dovuto)", "Collected by the city through pagoPA (taken off what is due)"},
	"set.paidpagopa": {"pagoPA, al Comune", "pagoPA, to the city"}, "set.paidtill": {"self-service, alla cassa", "self-service, at the till"},
	"settlement.title": {"Rendiconto", "Settlement"}, "set.csv": {"Scarica CSV", "Download CSV"}, "set.pdf": {"Scarica PDF", "Download PDF"},
	"set.csvcomma": {"CSV con virgole e punti decimali", "CSV with commas and decimal points"},
	"set.revoked":  {"revocati", "revoked"}, "set.lines": {"Certificati del mese", "Certificates of the month"},
	"set.protocol": {"Protocollo", "Protocol"}, "set.issued": {"Rilasciato", "Issued"}, "set.type": {"Tipo", "Type"},
	"set.nolines": {"Nessun certificato nel mese.", "No certificates this month."},

	"activity.days": {"Giorni", "Days"}, "activity.certs": {"certificati", "certificates"},
	"activity.perday":    {"Certificati al giorno per canale", "Certificates per day by channel"},
	"activity.bychannel": {"Per canale", "By channel"}, "activity.bytype": {"Per tipo", "By type"}, "activity.byoperator": {"Per esercente", "By operator"},
	"activity.nooperator": {"uffici e self-service", "offices and self-service"},
	"activity.failures":   {"Richieste rifiutate e verifiche fallite", "Refused requests and failed verifications"},
	"activity.refused":    {"richieste rifiutate", "refused requests"}, "activity.signature": {"firme rifiutate", "refused signatures"},
	"activity.verify_unknown": {"verifiche di certificati sconosciuti", "verifications of unknown certificates"},
	"activity.verify_revoked": {"verifiche di certificati revocati", "verifications of revoked certificates"},
	"activity.verify_valid":   {"verifiche di certificati validi", "verifications of valid certificates"},
	"activity.reasons":        {"Motivi dei rifiuti", "Refusal reasons"}, "activity.verifications": {"Verifiche", "Verifications"},
	"activity.nonerefused": {"Nessun rifiuto.", "No refusals."},
	"channel.counter":      {"sportello dell'esercente", "operator's counter"}, "channel.self_service": {"self-service", "self-service"}, "channel.office": {"ufficio anagrafe", "registry office"},

	"audit.cf": {"Codice fiscale", "Codice fiscale"}, "audit.actor": {"Chi", "Who"},
	"audit.actorhelp": {"Tipo:identificativo (staff:mrossi, operator:op-0001, device:…, clerk:cl-0001 per l'operatore abilitato) o solo l'identificativo.", "Kind:id (staff:mrossi, operator:op-0001, device:…, clerk:cl-0001 for a shop's named clerk) or just the id."},
	"audit.from":      {"Dal", "From"}, "audit.to": {"Al", "To"}, "audit.search": {"Cerca", "Search"},
	"audit.verify": {"Verifica la catena", "Verify the chain"}, "audit.intact": {"Catena integra:", "Chain intact:"}, "audit.broken": {"Catena alterata:", "Chain altered:"},
	"audit.results": {"accessi", "reads"}, "audit.limited": {"primi risultati: restringa la ricerca", "first results: narrow the search"},
	"audit.when": {"Quando", "When"}, "audit.data": {"Dati letti", "Data read"}, "audit.channel": {"Canale", "Channel"}, "audit.purpose": {"Motivo", "Purpose"},
	"nav.notices":           {"Notifiche", "Notifications"},
	"nav.appointments":      {"Appuntamenti", "Appointments"},
	"appt.off":              {"Questo hub non gestisce appuntamenti.", "This hub keeps no appointments."},
	"appt.checkin":          {"Accoglienza", "Check-in"},
	"appt.checkinhelp":      {"Inquadri con il lettore il QR della conferma (o scriva il codice di prenotazione): l'arrivo viene registrato e si vede a quale sportello andare.", "Scan the confirmation's QR (or type the booking code): the arrival is recorded and the counter to go to is shown."},
	"appt.code":             {"Codice letto dal QR o codice di prenotazione", "Code read from the QR, or booking code"},
	"appt.office":           {"Ufficio", "Office"},
	"appt.anyoffice":        {"Qualsiasi ufficio", "Any office"},
	"appt.alloffices":       {"Tutti gli uffici", "Every office"},
	"appt.checkinbtn":       {"Registra l'arrivo", "Record the arrival"},
	"appt.checkedin":        {"Arrivo registrato.", "Arrival recorded."},
	"appt.at":               {"Alle", "At"},
	"appt.offices":          {"Uffici e agende", "Offices and calendars"},
	"appt.service":          {"Servizio", "Service"},
	"appt.minutes":          {"Minuti", "Minutes"},
	"appt.counters":         {"Sportelli", "Counters"},
	"appt.hours":            {"Orari", "Hours"},
	"appt.nooffices":        {"Nessun ufficio prenota appuntamenti.", "No office books appointments."},
	"appt.closures":         {"Chiusure", "Closures"},
	"appt.closureshelp":     {"Le festività nazionali sono già escluse dalle agende; qui si aggiungono le chiusure del Comune (santo patrono, scioperi, traslochi). Gli appuntamenti già presi restano: vanno spostati.", "National holidays are already left out of the calendars; add the city's closures here (patron saint, strikes, moves). Bookings already made stay: move them."},
	"appt.from":             {"Dal", "From"},
	"appt.to":               {"Al", "To"},
	"appt.reason":           {"Motivo", "Reason"},
	"appt.remove":           {"Elimina", "Remove"},
	"appt.noclosures":       {"Nessuna chiusura.", "No closures."},
	"appt.addclosure":       {"Aggiungi la chiusura", "Add the closure"},
	"appt.back":             {"Torna agli uffici", "Back to the offices"},
	"appt.day":              {"Appuntamenti del giorno", "The day's appointments"},
	"appt.daylist":          {"Appuntamenti del", "Appointments of"},
	"appt.prev":             {"Giorno prima", "Previous day"},
	"appt.next":             {"Giorno dopo", "Next day"},
	"appt.closed":           {"Ufficio chiuso", "Office closed"},
	"appt.time":             {"Ora", "Time"},
	"appt.counter":          {"Sportello", "Counter"},
	"appt.person":           {"Persona", "Person"},
	"appt.ref":              {"Codice", "Code"},
	"appt.state":            {"Stato", "State"},
	"appt.state.booked":     {"prenotato", "booked"},
	"appt.state.checked_in": {"arrivato", "arrived"},
	"appt.state.cancelled":  {"annullato", "cancelled"},
	"appt.cancel":           {"Annulla", "Cancel"},
	"appt.nobookings":       {"Nessun appuntamento in questo giorno.", "No appointments this day."},
	"appt.slot":             {"Orario", "Time"},
	"appt.free":             {"liberi", "free"},
	"appt.cf":               {"Codice fiscale", "Codice fiscale"},
	"appt.book":             {"Prenota", "Book"},
	"appt.noslots":          {"Nessun orario prenotabile in questo giorno.", "No bookable time this day."},
	"done.closure":          {"Chiusura aggiunta.", "Closure added."},
	"done.closuredel":       {"Chiusura eliminata.", "Closure removed."},
	"done.apptbooked":       {"Appuntamento prenotato.", "Appointment booked."},
	"done.apptcancelled":    {"Appuntamento annullato.", "Appointment cancelled."},

	"notices.off":             {"Le notifiche ai cittadini sono spente: hub serve non ha né App IO (--appio-url, --appio-key-file) né un server di posta (--smtp-addr, --smtp-from).", "Notifications to citizens are off: hub serve has neither App IO (--appio-url, --appio-key-file) nor a mail server (--smtp-addr, --smtp-from)."},
	"notices.summary.failed":  {"Rifiutate definitivamente:", "Refused for good:"},
	"notices.summary.pending": {"In attesa:", "Waiting:"},
	"notices.summary.sent":    {"Consegnate:", "Delivered:"},
	"notices.failedhelp":      {"Una notifica rifiutata definitivamente non viene più ritentata: controlli il motivo (chiave App IO, indirizzo del mittente, testo) e avvisi il cittadino in altro modo.", "A notification refused for good is not tried again: check the reason (App IO key, sender address, text) and tell the citizen another way."},
	"notices.caption":         {"Notifiche agli interessati dei certificati rilasciati su richiesta di un familiare", "Notices to the subjects of certificates issued at a household member's request"},
	"notices.certificate":     {"Certificato", "Certificate"},
	"notices.queued":          {"In coda dal", "Queued"},
	"notices.channel":         {"Canale", "Channel"},
	"notices.state":           {"Stato", "State"},
	"notices.attempts":        {"Tentativi", "Attempts"},
	"notices.detail":          {"Esito", "Outcome"},
	"notices.next":            {"prossimo tentativo", "next attempt"},
	"notices.none":            {"Nessuna notifica.", "No notifications."},
	"notices.state.pending":   {"in attesa", "waiting"},
	"notices.state.sending":   {"in invio", "sending"},
	"notices.state.sent":      {"consegnata", "delivered"},
	"notices.state.skipped":   {"non raggiungibile su questo canale", "not reachable on this channel"},
	"notices.state.failed":    {"rifiutata definitivamente", "refused for good"},
	"audit.none":              {"Nessun accesso registrato.", "No reads recorded."},
	"audit.recorded":          {"Questa ricerca per codice fiscale è stata a sua volta registrata.", "This search by codice fiscale has itself been recorded."},

	"nav.certificates": {"Certificati", "Certificates"}, "nav.register": {"Registro di protocollo", "Protocol register"},
	"cert.title": {"Certificato", "Certificate"},
	"cert.searchnote": {"Cerchi un certificato per identificativo, numero di protocollo, codice fiscale (dell'intestatario o del richiedente) o giorno di rilascio. La ricerca per codice fiscale e l'apertura di un certificato sono registrate nel registro degli accessi con il suo nome e il motivo.",
		"Find a certificate by id, protocol number, codice fiscale (of the subject or of the requester) or day of issue. A search by codice fiscale and opening a certificate are recorded in the access log with your name and the purpose."},
	"cert.q":           {"Identificativo, protocollo, codice fiscale o giorno", "Id, protocol number, codice fiscale or day"},
	"cert.qhelp":       {"Es. «2026/0000123», «RSSMRA50B17A558W», «2026-04-07» o «07/04/2026».", "E.g. \"2026/0000123\", \"RSSMRA50B17A558W\", \"2026-04-07\" or \"07/04/2026\"."},
	"cert.purposehelp": {"Obbligatorio per cercare per codice fiscale e per aprire un certificato, es. «verifica su richiesta dell'interessato».", "Required to search by codice fiscale and to open a certificate, e.g. \"check at the subject's request\"."},
	"cert.ofday":       {"Certificati rilasciati il", "Certificates issued on"}, "cert.ofcf": {"Certificati di o richiesti da", "Certificates about or asked for by"},
	"cert.subject": {"Intestatario", "Subject"}, "cert.role": {"Ruolo", "Role"}, "cert.requester": {"Richiedente", "Requester"},
	"cert.assubject": {"intestatario", "subject"}, "cert.asrequester": {"richiedente", "requester"},
	"cert.channel": {"Canale", "Channel"}, "cert.none": {"Nessun certificato.", "No certificates."},
	"cert.valid": {"valido", "valid"}, "cert.revoked": {"revocato", "revoked"},
	"cert.id": {"Identificativo", "Id"}, "cert.exemption": {"Esenzione dal bollo", "Bollo exemption"},
	"cert.verify": {"Pagina di verifica", "Verification page"}, "cert.pdf": {"Apri il PDF", "Open the PDF"},
	"cert.facts": {"Dati certificati", "Facts certified"}, "cert.fees": {"Importi", "Fees"},
	"cert.reqkind.1": {"altra persona", "another person"}, "cert.reqkind.2": {"l'intestatario stesso", "the subject"}, "cert.reqkind.3": {"pubblica amministrazione", "public administration"},
	"cert.reqkind.0":    {"non indicato", "not recorded"},
	"cert.revoke":       {"Revoca il certificato", "Revoke the certificate"},
	"cert.revokereason": {"Motivo della revoca", "Reason for revocation"},
	"cert.reasonhelp":   {"La pagina di verifica lo mostrerà a chi controlla il certificato; resta nel registro degli accessi con il suo nome.", "The verification page shows it to whoever checks the certificate; it stays in the access log with your name."},
	"cert.confirmtitle": {"Confermi la revoca", "Confirm the revocation"},
	"cert.confirmtext":  {"La revoca non si può annullare: da ora la pagina di verifica dirà che il certificato è revocato, con il motivo.", "A revocation cannot be undone: from now on the verification page says the certificate is revoked, with the reason."},
	"cert.revokedby":    {"Revoca autorizzata da", "Revocation authorised by"},
	"cert.confirm":      {"Sì, revoca", "Yes, revoke"}, "cert.cancel": {"Annulla", "Cancel"},
	"done.cert_revoked": {"Certificato revocato.", "Certificate revoked."},
	"register.note":     {"Il registro di protocollo dei certificati (art. 53 DPR 445/2000), un giorno alla volta. Nomina i richiedenti per codice fiscale: ogni consultazione è registrata nel registro degli accessi.", "The certificates' protocol register (art. 53 DPR 445/2000), one day at a time. It names requesters by codice fiscale: each look-up is recorded in the access log."},
	"register.day":      {"Giorno", "Day"}, "register.csv": {"Scarica il registro del giorno (CSV)", "Download the day's register (CSV)"},
	"register.caption": {"Registro di protocollo del", "Protocol register of"}, "register.number": {"Numero", "Number"},
	"register.time": {"Data e ora", "Date and time"}, "register.direction": {"Direzione", "Direction"},
	"register.correspondent": {"Destinatario", "Recipient"}, "register.subject": {"Oggetto", "Subject"}, "register.doc": {"Documento", "Document"},
	"register.none":    {"Nessuna registrazione in questo giorno.", "No registrations on this day."},
	"register.dir.out": {"uscita", "outgoing"}, "register.dir.in": {"entrata", "incoming"}, "register.dir.annulled": {"annullata", "annulled"},

	"cf.explain": {"Codice fiscale non valido:", "Codice fiscale not valid:"}, "cf.bychar": {"Il codice carattere per carattere", "The code character by character"},
	"cf.pos": {"Posizione", "Position"}, "cf.char": {"Carattere", "Character"}, "cf.part": {"Parte", "Part"}, "cf.wrong": {"(errato)", "(wrong)"},
	"cf.part.surname": {"cognome", "surname"}, "cf.part.name": {"nome", "name"}, "cf.part.year": {"anno", "year"},
	"cf.part.month": {"mese", "month"}, "cf.part.day": {"giorno e sesso", "day and sex"}, "cf.part.place": {"luogo di nascita", "birthplace"},
	"cf.part.check":    {"controllo", "check"},
	"cf.rule.length":   {"Ha %d caratteri: un codice fiscale ne ha 16.", "It has %d characters: a codice fiscale has 16."},
	"cf.rule.alphabet": {"Il carattere %d («%s») non è né una lettera né una cifra.", "Character %d (\"%s\") is neither a letter nor a digit."},
	"cf.rule.letter":   {"Il carattere %d («%s») deve essere una lettera (parte del codice: %s).", "Character %d (\"%s\") must be a letter (part of the code: %s)."},
	"cf.rule.digit":    {"Il carattere %d («%s») deve essere una cifra, o una delle lettere dell'omocodia L M N P Q R S T U V (parte del codice: %s).", "Character %d (\"%s\") must be a digit, or one of the omocodia letters L M N P Q R S T U V (part of the code: %s)."},
	"cf.rule.month":    {"Il carattere 9 («%s») non è una lettera di mese (A B C D E H L M P R S T, da gennaio a dicembre).", "Character 9 (\"%s\") is not a month letter (A B C D E H L M P R S T, January to December)."},
	"cf.rule.day":      {"I caratteri 10–11 («%s») non sono un giorno di nascita: 01–31 per gli uomini, 41–71 per le donne.", "Characters 10–11 (\"%s\") are not a day of birth: 01–31 for men, 41–71 for women."},
	"cf.rule.date":     {"I caratteri 10–11 («%s») danno un giorno che il mese del carattere 9 («%s») non ha.", "Characters 10–11 (\"%s\") give a day the month of character 9 (\"%s\") does not have."},
	"cf.rule.leap":     {"29 febbraio in un anno che finisce per %s, che non è mai bisestile.", "29 February in a year ending in %s, which is never a leap year."},
	"cf.rule.check":    {"Il carattere 16 («%s») non è il carattere di controllo: per i primi 15 caratteri dovrebbe essere «%s», quindi probabilmente uno di essi è sbagliato.", "Character 16 (\"%s\") is not the check character: for the first 15 characters it should be \"%s\", so one of them is probably mistyped."},

	"persons.q":       {"Codice fiscale, oppure cognome e nomi", "Codice fiscale, or surname and given names"},
	"persons.qhelp":   {"Es. «RSSMRA50B17A558W» o «rossi mar»: il nome si cerca dall'inizio del cognome, senza badare a maiuscole, accenti e apostrofi.", "E.g. \"RSSMRA50B17A558W\" or \"rossi mar\": a name is matched from the start of the surname, ignoring case, accents and apostrophes."},
	"persons.matches": {"Persone il cui nome inizia con", "Persons whose name starts with"},
	"persons.nomatch": {"Nessuna persona ha un nome che inizia così.", "No person's name starts like that."},
	"persons.name":    {"Cognome e nomi", "Surname and given names"}, "persons.citizenship": {"Cittadinanza", "Citizenship"},
	"persons.partly":    {"Scheda parzialmente certificabile", "Record only partly certifiable"},
	"persons.procedure": {"Procedimento aperto dal", "Procedure open since"},
	"persons.history":   {"Storia della residenza", "Residence history"}, "persons.comune": {"Comune", "Comune"}, "persons.now": {"oggi", "today"},
	"persons.documents": {"Documenti di identità", "Identity documents"}, "persons.doctype": {"Tipo", "Kind"},
	"persons.docnumber": {"Numero", "Number"}, "persons.docissued": {"Rilasciato il", "Issued"}, "persons.docexpires": {"Scade il", "Expires"},
	"persons.docissuer": {"Rilasciato da", "Issued by"}, "persons.docrevoked": {"revocato", "revoked"}, "persons.docexpired": {"scaduto", "expired"},
	"persons.relationship": {"Rapporto con l'intestatario", "Relationship to the head"},
	"persons.certificates": {"Certificati di questa persona o da lei richiesti", "Certificates about or asked for by this person"},
	"doc.CIE":              {"carta d'identità elettronica", "electronic identity card (CIE)"}, "doc.PASSPORT": {"passaporto", "passport"}, "doc.CI": {"carta d'identità cartacea", "paper identity card"},
	"sex.M": {"maschile", "male"}, "sex.F": {"femminile", "female"},
	"persons.note": {"Ogni consultazione è registrata nel registro degli accessi con il suo nome e il motivo.", "Every look-up is recorded in the access log with your name and the purpose."},
	"persons.show": {"Mostra", "Show"}, "persons.purposehelp": {"Pratica e base giuridica, es. «rilascio certificato allo sportello, art. 33 DPR 223/1989».", "Task and legal basis, e.g. \"certificate at the counter, art. 33 DPR 223/1989\"."},
	"persons.born": {"Nascita", "Born"}, "persons.sex": {"Sesso", "Sex"}, "persons.civil": {"Stato civile", "Civil status"},
	"persons.residence": {"Residenza", "Residence"}, "persons.death": {"Morte", "Death"}, "persons.family": {"Famiglia anagrafica", "Registry family"},

	"staff.status": {"Stato", "Status"}, "staff.enabled": {"attivo", "enabled"}, "staff.disabled": {"disattivato", "disabled"},
	"staff.actions": {"Azioni", "Actions"}, "staff.disable": {"Disattiva", "Disable"}, "staff.enable": {"Riattiva", "Re-enable"},
	"staff.newpassword": {"Nuova password per", "New password for"}, "staff.reset": {"Reimposta la password", "Reset the password"},
	"staff.history":       {"Ultima modifica", "Last change"},
	"done.staff_disable":  {"Account disattivato; le sue sessioni sono chiuse.", "Account disabled; its sessions are closed."},
	"done.staff_enable":   {"Account riattivato.", "Account re-enabled."},
	"done.staff_password": {"Password reimpostata; le sessioni dell'account sono chiuse.", "Password reset; the account's sessions are closed."},
	"staff.caption":       {"Account del personale", "Staff accounts"}, "staff.name": {"Nome e cognome", "Full name"}, "staff.role": {"Ruolo", "Role"},
	"staff.last": {"Ultimo accesso", "Last sign-in"}, "staff.add": {"Nuovo account", "New account"}, "staff.create": {"Crea", "Create"},
	"account.totpon": {"attivi", "enabled"}, "account.totpoff": {"non attivi", "not enabled"},
	"account.setup": {"Attivazione dei codici monouso", "Setting up one-time codes"},
	"account.scan":  {"Inquadri il codice con l'app di autenticazione, poi inserisca il codice che mostra.", "Scan the code with your authenticator app, then enter the code it shows."},
	"account.key":   {"Oppure inserisca la chiave:", "Or type the key:"}, "account.confirm": {"Conferma", "Confirm"}, "account.disable": {"Disattiva i codici monouso", "Disable one-time codes"},
	"account.newcode":    {"Codice mostrato dall'app per la nuova chiave", "Code the app shows for the new key"},
	"account.password":   {"La sua password attuale", "Your current password"},
	"account.current":    {"Codice monouso attuale (dall'app che usa ora)", "Current one-time code (from the app you use now)"},
	"account.replace":    {"Sostituisci i codici monouso", "Replace one-time codes"},
	"account.replacewhy": {"Per un telefono nuovo: serviranno la password e un codice dell'app attuale.", "For a new phone: you will need your password and a code from the current app."},
	"account.why":        {"Con i codici monouso, una password rubata non basta per accedere.", "With one-time codes, a stolen password is not enough to sign in."},
	"account.enable":     {"Attiva i codici monouso", "Enable one-time codes"},

	"directory.title":   {"Dove chiedere un certificato", "Where to get a certificate"},
	"directory.lead":    {"Edicole, tabaccherie e uffici dove ottenere i certificati anagrafici, con orari e mezzi pubblici.", "Newsagents, tobacconists and offices issuing registry certificates, with opening hours and public transport."},
	"directory.mapnote": {"Quadrati: uffici anagrafe; cerchi: esercenti convenzionati.", "Squares: registry offices; circles: partner shops."},
	"directory.fee":     {"servizio", "service fee"}, "directory.open": {"aperto ora", "open now"}, "directory.closed": {"chiuso ora", "closed now"},
	"directory.today": {"Oggi", "Today"}, "directory.walk": {"a piedi", "on foot"},
}

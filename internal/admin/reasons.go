package admin

// reasonSentences is the console's catalogue of refusals, keyed by reason
// code: Italian, then English. A sentence with formatting verbs is for a
// reason only the console gives (refused with its arguments); a reason a
// domain error may carry (hubfault's table, the API's reasons) has a
// sentence without verbs, as it is said with no arguments
// (TestEveryReasonHasASentence). A reason of the API not listed here reads
// as the kiosks say it (assets/i18n, "hub_"+reason).
var reasonSentences = map[string][2]string{
	// The hub's generic kinds (fault/hubfault), as staff read them.
	"internal":     {"Il hub non ha potuto completare la richiesta; l'errore è stato registrato.", "The hub could not complete the request; the error has been logged."},
	"unavailable":  {"Il hub non può decidere in questo momento: riprovi tra poco.", "The hub cannot decide right now: try again shortly."},
	"storage_full": {"Il disco del hub è pieno: nulla è stato registrato. Avvisi l'assistenza tecnica.", "The hub's disk is full: nothing was recorded. Tell technical support."},
	"not_found":    {"Quanto richiesto non esiste.", "What was asked for does not exist."},
	"invalid":      {"Il hub rifiuta i dati inseriti.", "The hub refuses the data entered."},
	"conflict":     {"La modifica è in conflitto con i dati del hub: ricarichi la pagina e verifichi.", "The change conflicts with the hub's records: reload the page and check."},
	"ambiguous":    {"I dati indicati corrispondono a più persone: serve il codice fiscale esatto.", "The details given match more than one person: give the exact codice fiscale."},

	// A kiosk's, of a hub that no longer serves its API version.
	"api_version_unsupported": {"Il hub non serve più la versione dell'API di questo chiosco: il chiosco va aggiornato, le richieste in coda restano in attesa.", "The hub no longer serves this kiosk's API version: the kiosk must be updated; queued requests wait."},

	// The session, the form and the role (auth.go).
	"csrf_failed":     {"Il modulo è scaduto o non proviene da questa console: ricarichi la pagina e riprovi.", "The form has expired or did not come from this console: reload the page and try again."},
	"role_forbidden":  {"Il suo ruolo non consente di aprire questa pagina.", "Your role does not allow this page."},
	"session_expired": {"La sessione è scaduta: acceda di nuovo.", "Your session has expired: sign in again."},
	"form_unreadable": {"Il modulo non si è potuto leggere: ricarichi la pagina e riprovi.", "The form could not be read: reload the page and try again."},
	"form_too_large":  {"Il modulo inviato è troppo grande.", "The form sent is too large."},
	"unknown_action":  {"Il modulo chiede un'azione che la console non conosce: ricarichi la pagina e riprovi.", "The form asks for an action the console does not know: reload the page and try again."},

	// Signing in and confirming the password (auth.go, misc.go).
	"login_failed":        {"Nome utente, password o codice errati.", "Wrong user name, password or code."},
	"login_locked":        {"Troppi tentativi falliti: l'accesso è bloccato fino alle %s.", "Too many failed attempts: signing in is blocked until %s."},
	"login_busy":          {"Troppi accessi in corso in questo momento: riprovi tra qualche secondo.", "Too many sign-ins at this moment: try again in a few seconds."},
	"login_code_required": {"Inserisca anche il codice monouso.", "Enter your one-time code too."},
	"login_expired":       {"Il modulo di accesso è scaduto: riprovi.", "The sign-in form expired: try again."},
	"reauth_failed":       {"Password o codice monouso errati.", "Wrong password or one-time code."},
	"totp_code_mismatch":  {"Il codice non corrisponde: controlli l'ora del telefono e riprovi.", "The code does not match: check the phone's clock and try again."},
	"totp_secret_damaged": {"Il segreto dei codici monouso nel modulo è danneggiato: ricominci la configurazione.", "The one-time code secret in the form is damaged: start the set-up again."},

	// Staff accounts (staffadmin.go).
	"staff_not_self": {"Non puoi disattivare il tuo stesso account: chiedi a un altro amministratore.", "You cannot disable your own account: ask another administrator."},

	// Persons and certificates (persons.go, certificates.go).
	"purpose_required":       {"Indichi il motivo della consultazione: la legge lo richiede per ogni accesso ai dati.", "Give the purpose of the look-up: the law requires it for every access to personal data."},
	"invalid_cf":             {"Il codice fiscale non è valido.", "The codice fiscale is not valid."},
	"person_query_invalid":   {"Scriva un codice fiscale o almeno una lettera del cognome.", "Write a codice fiscale or at least one letter of the surname."},
	"subject_not_found":      {"Nessuna persona ha questo codice fiscale.", "No person has this codice fiscale."},
	"certificate_not_found":  {"Nessun certificato ha identificativo o numero di protocollo %s.", "No certificate has id or protocol number %s."},
	"bad_protocol":           {"«%s» non è un numero di protocollo nella forma AAAA/NNNNNNN.", "\"%s\" is not a protocol number of the form YYYY/NNNNNNN."},
	"bad_query":              {"«%s» non è un identificativo di certificato, un numero di protocollo, un codice fiscale né un giorno.", "\"%s\" is not a certificate id, a protocol number, a codice fiscale or a day."},
	"certificate_purged":     {"Il certificato %s, rilasciato il %s, è stato cancellato il %s alla fine del periodo di conservazione.", "Certificate %s, issued on %s, was purged on %s at the end of its retention period."},
	"pdf_expired":            {"Il PDF di questo certificato non è più conservato: è stato cancellato alla fine della finestra di riscaricamento. La registrazione resta e il certificato si può ancora verificare.", "This certificate's PDF is no longer kept: it was deleted at the end of the re-download window. The record stays and the certificate can still be verified."},
	"revoke_reason_required": {"Scriva il motivo della revoca (almeno 5 caratteri, al massimo 500).", "Write the reason for the revocation (at least 5 characters, at most 500)."},
	"revocation_bad_text":    {"Il motivo della revoca deve stare su una riga, senza caratteri di controllo.", "The reason for the revocation must be one line, without control characters."},
	"already_revoked":        {"Il certificato è già stato revocato il %s.", "The certificate was already revoked on %s."},
	"bad_day":                {"«%s» non è un giorno: scriva AAAA-MM-GG o GG/MM/AAAA.", "\"%s\" is not a day: write YYYY-MM-DD or DD/MM/YYYY."},

	// Operators, clerks and devices (operators.go, clerks.go, alerts.go,
	// convention.go).
	"no_agreement":             {"Questo esercente non ha una convenzione con il Comune: non c'è un kit da scaricare.", "This operator has no agreement with the city: there is no kit to download."},
	"office_no_agreement":      {"Un ufficio anagrafe è del Comune stesso e non ha una convenzione.", "A registry office is the city's own and has no agreement."},
	"date_invalid":             {"Una data del modulo non è valida: la scriva come AAAA-MM-GG.", "A date in the form is not valid: write it as YYYY-MM-DD."},
	"certificate_type_unknown": {"«%s» non è un tipo di certificato.", "\"%s\" is not a certificate type."},
	"no_limits":                {"Questo hub non applica limiti ai dispositivi.", "This hub keeps no limits on devices."},
	"alert_note_required":      {"Scriva nella nota che cosa ha verificato: resta nella storia del dispositivo.", "Write in the note what you checked: it stays in the device's history."},
	"limits_unchanged":         {"Indichi almeno un limite da cambiare.", "Give at least one limit to change."},
	"not_whole_number":         {"«%[2]s» non è un numero intero (%[1]s).", "\"%[2]s\" is not a whole number (%[1]s)."},

	"csv_separator_unknown": {"«%s» non è un separatore: scelga semicolon (punto e virgola) o comma (virgola).", "\"%s\" is not a separator: choose semicolon or comma."},

	// The city settings (city.go): the settings' own refusals (city.Error,
	// with their arguments) and the forms'.
	"no_settings":                 {"Questo hub non conserva impostazioni del Comune.", "This hub keeps no city settings."},
	"diritti_out_of_range":        {"I diritti sul canale «%[1]s» devono essere tra 0,00 e %[2]s.", "The diritti on the «%[1]s» channel must be between 0,00 and %[2]s."},
	"diritti_exempt_above":        {"Sul canale «%[1]s» i diritti per il certificato esente da bollo (%[2]s) non possono superare quelli in bollo (%[3]s).", "On the «%[1]s» channel the diritti on a certificate exempt from bollo (%[2]s) cannot be above those in bollo (%[3]s)."},
	"diritti_none_not_allowed":    {"Solo il chiosco self-service può non applicare diritti: sul canale «%[1]s» sono dovuti i diritti della L. 604/1962, tabella D.", "Only the self-service kiosk may charge no diritti: on the «%[1]s» channel the diritti of L. 604/1962, table D are due."},
	"diritti_unknown_channel":     {"«%[1]s» non è un canale: i diritti si impostano per lo sportello dell'esercente, il self-service o l'ufficio anagrafe.", "«%[1]s» is not a channel: diritti are set for the operator's counter, self-service or the registry office."},
	"ipa_code_invalid":            {"«%[1]s» non è un codice dell'Indice PA come c_f205 (lettere minuscole, cifre e trattini bassi, da 2 a 30, iniziando con una lettera).", "«%[1]s» is not an Indice PA code such as c_f205 (lower-case letters, digits and underscores, from 2 to 30, starting with a letter)."},
	"aoo_code_invalid":            {"«%[1]s» non è un codice AOO come A1B2C3D (lettere, cifre, trattini e trattini bassi, fino a 16).", "«%[1]s» is not an AOO code such as A1B2C3D (letters, digits, hyphens and underscores, up to 16)."},
	"register_code_invalid":       {"«%[1]s» non è un codice di registro come CERT (lettere, cifre, trattini e trattini bassi, fino a 16).", "«%[1]s» is not a register code such as CERT (letters, digits, hyphens and underscores, up to 16)."},
	"bollo_authorisation_invalid": {"«%[1]s» non è un'autorizzazione nella forma «n. NUMERO del GG/MM/AAAA», ad esempio «n. 123/2019 del 15/01/2019».", "«%[1]s» is not an authorisation as «n. NUMBER del DD/MM/YYYY», e.g. «n. 123/2019 del 15/01/2019»."},
	"setting_too_long":            {"«%[1]s» ha più di %[2]s caratteri.", "«%[1]s» has more than %[2]s characters."},
	"setting_not_one_line":        {"«%[1]s» deve stare su una sola riga.", "«%[1]s» must fit on one line."},
	"setting_register_partial":    {"Manca «%[1]s»: il numero di ogni certificato porta insieme i codici IPA, AOO e del registro (DPCM 3.12.2013, art. 9); si impostano tutti e tre o nessuno.", "«%[1]s» is missing: every certificate's number carries the IPA, AOO and register codes together (DPCM 3.12.2013, art. 9); set all three or none."},
	"setting_amount":              {"«%s» non è un importo in euro come 0,52.", "«%s» is not an amount in euro such as 0,52."},
	"setting_unchanged":           {"Nessun valore è cambiato: le impostazioni restano come sono.", "No value changed: the settings stay as they are."},
	"no_appointments":             {"Questo hub non gestisce appuntamenti.", "This hub keeps no appointments."},
	"closure_dates":               {"Le date devono essere giorni nella forma AAAA-MM-GG, la fine non prima dell'inizio.", "Dates must be days in the form YYYY-MM-DD, the end not before the start."},
	"appointment_invalid":         {"La richiesta di appuntamento non è completa o non è corretta: ricontrolli servizio, orario e codice.", "The appointment request is incomplete or incorrect: check the service, the time and the code."},
}

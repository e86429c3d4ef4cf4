package city

// Tx is the city's settings seen from one hub transaction (store.Tx.City).
// Every backend passes the suite in package citytest; on a database
// several hubs share, settings stored through one hub are read by all.
type Tx interface {
	// Get returns the settings as stored: what staff set, the zero Config
	// when they never set anything (Effective fills in the defaults). In a
	// write transaction the settings stay locked until it ends, so a
	// change checked against them (a fee cap against an agreement, an
	// agreement against the cap) holds at commit, whichever hub makes it.
	Get() (Config, error)
	// Put stores c as the settings.
	Put(c Config) error
}

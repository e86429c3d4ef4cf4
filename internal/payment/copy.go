package payment

// Lister lists every payment a store holds: what moving a city to another
// store (storecopy, hub migrate) reads, where Since needs each operator's
// id and misses the payments of operators no longer known.
type Lister interface {
	// All returns every payment, oldest created first (ties by id): the
	// order in which Create, given them again, names each request key by
	// its latest payment as the store did.
	All() ([]Payment, error)
}

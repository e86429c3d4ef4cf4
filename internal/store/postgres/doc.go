// Package postgres keeps the hub's records in PostgreSQL (pgx v5, pure Go:
// the hub still builds with CGO_ENABLED=0), so several hubs can share one
// database (issue 16).
//
// Today it holds the registry: Registry implements registry.Store and
// passes registry/storetest like store/bolt/registrybolt. The plan of DESIGN.md ("The
// hub's inside") is that internal/store gathers every backend: the bbolt
// stores (store/bolt/registrybolt, certificate/certbolt, operators/opbolt, …) move
// to internal/store/bolt beside this package, each domain keeps its Store
// interface and conformance suite, and one hub transaction hands out each
// domain's view of it. Until then this package grows one domain at a time,
// each with its tables in a migration of its own.
//
// # Schema and migrations
//
// The schema is a sequence of SQL files embedded from migrations/, named
// NNNN_what.sql and numbered upwards (a gap is allowed: each domain holds its own
// numbers). Open applies those the
// database has not seen, each in its own transaction together with its row
// in schema_migrations, under an advisory lock so that hubs starting at
// once apply each migration exactly once. A database that records a
// version this program has no file for was written by a newer
// release: Open refuses it (ErrVersion) rather than write into a schema it
// does not understand.
//
// # Records
//
// A person, family, event or place is stored whole in the domain's own JSON
// form (the json tags of internal/registry and internal/places, the form
// the domain already defines for itself), in a JSONB column; what is
// searched or must be unique is also a column or a link table: the exact
// codice fiscale (unique), its omocodia base (look-up of omocodes), the
// name key (prefix search), the current family, the NIS of each CIE
// (unique), family members and the persons of each event. So a field added
// to registry.Person needs no migration (store/bolt/registrybolt needs a new record
// format for it), SQL can still read any field (record->>'surname') for
// reports and checks, and the columns the store relies on are derived from
// the same record in the same transaction. store/bolt/registrybolt's hand-rolled
// binary codec saves decoding time on a memory-mapped file; here the
// round trip to the server dominates a look-up, not the JSON.
//
// # Transactions
//
// View runs in a REPEATABLE READ, READ ONLY transaction: one snapshot, as
// a bbolt read transaction gives. Update takes a transaction-scoped
// advisory lock first, so registry writers run one at a time across every
// hub on the database, as bbolt's single writer does in one process; under
// that lock READ COMMITTED sees every earlier write, so the checks a
// writer makes (is this codice fiscale or NIS already held, does this
// family exist) stay true until it commits and no write is ever retried.
// Registry writes are rare (the registry office, a bulk import), so one
// writer at a time costs nothing worth the retries SERIALIZABLE would ask
// of every caller's fn. Readers never wait for the lock.
//
// # Round trips
//
// A View begins its transaction in the same round trip as its first
// query, so a counter look-up costs two. An Update queues its writes and
// sends them with the next check it must answer; once it has put a
// fiftieth of the registry (a bulk import, hub seed, registry.Copy) it
// reads every code, NIS, person and family ID held into memory, checks
// new records there and sends them with one COPY per table, foreign keys
// being checked at commit.
package postgres

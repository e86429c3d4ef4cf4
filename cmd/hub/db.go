package main

// dbEnv names the PostgreSQL database a command uses when --db is not
// given (issue 16: `hub serve --db postgres://…` and SPORTELLO_DB). Every
// command that takes --data takes --db too (cli.dataFlag): with it the
// hub's records are in the database, shared by every hub of the city, and
// the data directory keeps only what is the machine's own.
const dbEnv = "SPORTELLO_DB"

package pdf

import "github.com/sportello/sportello/internal/fees"

// Euro formats integer cents as a printed certificate shows them, the
// Italian way with thousands grouped: "16,00 €", "1.234,56 €".
func Euro(cents int64) string { return fees.Amount(cents, ',', '.') + " €" }

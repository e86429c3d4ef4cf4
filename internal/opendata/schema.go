// Package opendata publishes monthly statistics of the registry office's
// services (certificates issued, appointments booked, demographic
// requests filed and how they were decided) by district,
// channel and type, as CSV and JSON described by a Frictionless Table
// Schema (https://specs.frictionlessdata.io/table-schema/), the way ANPR
// publishes its own figures (issue 17, item 7).
//
// No figure below MinCount is published: such a cell's count is left
// empty (the schema's missing value) and its "suppressed" field is true,
// so no person can be singled out by a count of one or two.
//
// Validate checks a CSV file against a Table Schema: header, every
// field's type and constraints, the missing values and the primary key.
package opendata

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MinCount is the smallest count published; smaller ones are suppressed.
const MinCount = 5

// Schema is a Frictionless Table Schema: the subset of the
// specification this package writes and Validate checks.
type Schema struct {
	Fields        []Field  `json:"fields"`
	PrimaryKey    []string `json:"primaryKey,omitempty"`
	MissingValues []string `json:"missingValues"`
}

// Field is one column.
type Field struct {
	Name        string      `json:"name"`
	Title       string      `json:"title,omitempty"`
	Description string      `json:"description,omitempty"`
	Type        string      `json:"type"` // "string", "integer", "boolean"
	Format      string      `json:"format,omitempty"`
	Constraints Constraints `json:"constraints,omitzero"`
}

// Constraints are a field's constraints.
type Constraints struct {
	Required bool     `json:"required,omitempty"`
	Enum     []string `json:"enum,omitempty"`
	Pattern  string   `json:"pattern,omitempty"`
	Minimum  *int     `json:"minimum,omitempty"`
	Maximum  *int     `json:"maximum,omitempty"`
}

// Channels are the channels a service is obtained through.
var Channels = []string{"counter", "self_service", "office"}

// TableSchema is the schema of every dataset this package publishes.
func TableSchema() Schema {
	min := MinCount
	return Schema{
		MissingValues: []string{""},
		PrimaryKey:    []string{"month", "district", "channel", "type"},
		Fields: []Field{
			{Name: "month", Title: "Mese", Description: "Month of the service (a request's filing), in Rome time, as YYYY-MM.", Type: "string",
				Constraints: Constraints{Required: true, Pattern: `[0-9]{4}-(0[1-9]|1[0-2])`}},
			{Name: "district", Title: "Zona", Description: "Postal code (CAP) of the residence of the person the service was for (a request's requester), on its date; \"non residente\" when none (one moving in from elsewhere).", Type: "string",
				Constraints: Constraints{Required: true}},
			{Name: "channel", Title: "Canale", Description: "counter: a shop's or office's counter for the requester; self_service: a kiosk with the citizen's CIE; office: the registry office's staff.", Type: "string",
				Constraints: Constraints{Required: true, Enum: Channels}},
			{Name: "type", Title: "Tipo", Description: "Certificate types (joined by +); appointment service; or a request's kind and where it stands when the file is made, as KIND/open, KIND/accepted or KIND/refused.", Type: "string",
				Constraints: Constraints{Required: true}},
			{Name: "count", Title: "Numero", Description: fmt.Sprintf("How many; empty when fewer than %d (suppressed).", MinCount), Type: "integer",
				Constraints: Constraints{Minimum: &min}},
			{Name: "suppressed", Title: "Oscurato", Description: fmt.Sprintf("true when the count is fewer than %d and left empty so no person can be singled out.", MinCount), Type: "boolean",
				Constraints: Constraints{Required: true}},
		},
	}
}

// JSON is the schema as published (schema.json).
func (s Schema) JSON() []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return append(b, '\n')
}

// Validate checks a CSV table (its rows, header first) against s. It
// returns every problem found, at most 50, or nil.
func (s Schema) Validate(rows [][]string) []error {
	var errs []error
	add := func(format string, args ...any) bool {
		errs = append(errs, fmt.Errorf(format, args...))
		return len(errs) < 50
	}
	if len(rows) == 0 {
		return []error{fmt.Errorf("the table has no header")}
	}
	head := rows[0]
	if len(head) != len(s.Fields) {
		return []error{fmt.Errorf("the header has %d columns, the schema %d fields", len(head), len(s.Fields))}
	}
	for i, f := range s.Fields {
		if head[i] != f.Name {
			add("column %d is %q, the schema's field %q", i+1, head[i], f.Name)
		}
	}
	if errs != nil {
		return errs
	}
	patterns := make([]*regexp.Regexp, len(s.Fields))
	for i, f := range s.Fields {
		if f.Constraints.Pattern != "" {
			// A Table Schema pattern matches the whole value.
			re, err := regexp.Compile(`^(?:` + f.Constraints.Pattern + `)$`)
			if err != nil {
				return []error{fmt.Errorf("field %s: pattern %q: %v", f.Name, f.Constraints.Pattern, err)}
			}
			patterns[i] = re
		}
	}
	keyCols := make([]int, 0, len(s.PrimaryKey))
	for _, k := range s.PrimaryKey {
		found := false
		for i, f := range s.Fields {
			if f.Name == k {
				keyCols, found = append(keyCols, i), true
			}
		}
		if !found {
			return []error{fmt.Errorf("primary key field %q is not in the schema", k)}
		}
	}
	missing := func(v string) bool {
		for _, m := range s.MissingValues {
			if v == m {
				return true
			}
		}
		return false
	}
	seen := map[string]int{}
	for n, row := range rows[1:] {
		line := n + 2
		if len(row) != len(s.Fields) {
			if !add("row %d has %d cells, want %d", line, len(row), len(s.Fields)) {
				return errs
			}
			continue
		}
		for i, f := range s.Fields {
			v, c := row[i], f.Constraints
			if missing(v) {
				if c.Required || slices.Contains(s.PrimaryKey, f.Name) {
					if !add("row %d: %s is required", line, f.Name) {
						return errs
					}
				}
				continue
			}
			if err := checkValue(f, v, patterns[i]); err != nil {
				if !add("row %d: %s %q: %v", line, f.Name, v, err) {
					return errs
				}
			}
		}
		var key []string
		for _, i := range keyCols {
			key = append(key, row[i])
		}
		k := strings.Join(key, "\x00")
		if first, dup := seen[k]; dup {
			if !add("row %d repeats the primary key of row %d (%s)", line, first, strings.Join(key, ", ")) {
				return errs
			}
		} else {
			seen[k] = line
		}
	}
	return errs
}

func checkValue(f Field, v string, pattern *regexp.Regexp) error {
	c := f.Constraints
	switch f.Type {
	case "string":
	case "integer":
		n, err := strconv.Atoi(v)
		if err != nil || strconv.Itoa(n) != strings.TrimPrefix(v, "+") {
			return fmt.Errorf("not an integer")
		}
		if c.Minimum != nil && n < *c.Minimum {
			return fmt.Errorf("below the minimum %d", *c.Minimum)
		}
		if c.Maximum != nil && n > *c.Maximum {
			return fmt.Errorf("above the maximum %d", *c.Maximum)
		}
	case "boolean":
		// The specification's default trueValues and falseValues.
		switch v {
		case "true", "True", "TRUE", "1", "false", "False", "FALSE", "0":
		default:
			return fmt.Errorf("not a boolean")
		}
	default:
		return fmt.Errorf("type %q is not one this validator knows", f.Type)
	}
	if len(c.Enum) > 0 && !slices.Contains(c.Enum, v) {
		return fmt.Errorf("not one of %s", strings.Join(c.Enum, ", "))
	}
	if pattern != nil && !pattern.MatchString(v) {
		return fmt.Errorf("does not match %s", c.Pattern)
	}
	return nil
}

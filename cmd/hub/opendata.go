package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sportello/sportello/internal/cmdline"
	"github.com/sportello/sportello/internal/opendata"
)

func init() {
	register(command{Name: "opendata export", Usage: "--data DIR --month YYYY-MM --out DIR",
		Help: "write a month's open-data statistics (certificates, appointments, requests with their outcome, by district, channel and type; counts below 5 suppressed) as CSV and JSON, with schema.json", Run: (*cli).opendataExport})
}

func (c *cli) opendataExport(ctx context.Context, args []string) error {
	fs := cmdline.FlagSet("hub opendata export")
	data := c.dataFlag(fs)
	month := fs.String("month", "", "the month, YYYY-MM")
	out := fs.String("out", "", "directory to write into (created if need be)")
	if err := cmdline.NoArgs(fs, args); err != nil {
		return err
	}
	start, err := opendata.Month(*month)
	if err != nil {
		return usagef("--month: %v", err)
	}
	if *out == "" {
		return usagef("give --out, the directory to write into")
	}
	return c.withHub(ctx, *data, readExisting, func(h *hubFile) error {
		dir := filepath.Join(*out, *month)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		schema := opendata.TableSchema()
		if err := os.WriteFile(filepath.Join(*out, "schema.json"), schema.JSON(), 0o644); err != nil {
			return err
		}
		for _, name := range opendata.Datasets {
			rows, err := opendata.Dataset(ctx, h.stores, name, start)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			table := opendata.CSV(rows)
			// What is published validates against what is published.
			recs, err := csv.NewReader(bytes.NewReader(table)).ReadAll()
			if err != nil {
				return err
			}
			if errs := schema.Validate(recs); errs != nil {
				return fmt.Errorf("%s does not validate against its schema: %v", name, errs[0])
			}
			if err := os.WriteFile(filepath.Join(dir, name+".csv"), table, 0o644); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, name+".json"), opendata.JSON(rows), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s/%s.csv: %d rows\n", *month, name, len(rows))
		}
		return nil
	})
}

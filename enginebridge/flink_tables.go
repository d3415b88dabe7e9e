// The Flink adapter's table declarations: each TableSource becomes a
// TEMPORARY TABLE of the gateway session.

package enginebridge

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
)

// flinkTableDDL writes one CREATE TEMPORARY TABLE statement per table.
func flinkTableDDL(tables []TableSource, schemas map[string][]FlinkColumn) ([]string, error) {
	var out []string
	for i, t := range tables {
		field := fmt.Sprintf("tables[%d]", i)
		if t.Name == "" {
			return nil, fmt.Errorf("%s.name: must be set", field)
		}
		cols, declared := schemas[t.Name]
		var format string
		switch t.Format {
		case FormatCSV:
			if !declared {
				return nil, fmt.Errorf("%s %q: Flink's csv format reads no header line, so a csv table needs its columns declared (FlinkConfig.Schemas); parquet files carry their own", field, t.Name)
			}
			format = "'format' = 'csv', 'csv.null-literal' = ''"
		case FormatParquet:
			format = "'format' = 'parquet'"
		default:
			return nil, fmt.Errorf("%s.format: %q is not supported by the flink engine (csv, parquet)", field, t.Format)
		}
		abs, err := absFile(t.Path)
		if err != nil {
			return nil, fmt.Errorf("%s.path: %w", field, err)
		}
		if !declared {
			if cols, err = parquetColumns(abs); err != nil {
				return nil, fmt.Errorf("%s %q: %w", field, t.Name, err)
			}
		}
		if len(cols) == 0 {
			return nil, fmt.Errorf("%s %q: no columns", field, t.Name)
		}
		var defs []string
		for j, c := range cols {
			if c.Name == "" || !flinkTypeText(c.Type) {
				return nil, fmt.Errorf("%s %q: column %d %q: type %q is not a plain Flink SQL type", field, t.Name, j, c.Name, c.Type)
			}
			defs = append(defs, backquoteIdent(c.Name)+" "+c.Type)
		}
		out = append(out, "CREATE TEMPORARY TABLE "+backquoteIdent(t.Name)+" ("+strings.Join(defs, ", ")+
			") WITH ('connector' = 'filesystem', 'path' = "+quoteString(abs)+", "+format+")")
	}
	return out, nil
}

// flinkTypeText accepts type names such as "DECIMAL(10, 2)", "STRING" or
// "TIMESTAMP(3)": letters, digits, spaces, commas and parentheses only, so
// a declared type cannot smuggle SQL into the DDL.
func flinkTypeText(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	for _, r := range s {
		ok := r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(" ,()_", r)
		if !ok {
			return false
		}
	}
	return true
}

func backquoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func absFile(p string) (string, error) {
	if p == "" {
		return "", errors.New("must be set")
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%q is not absolute (the gateway resolves paths itself)", p)
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("file %q: %w", p, err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("%q is a directory", p)
	}
	return p, nil
}

// parquetColumns reads a parquet file's column names and types with an
// in-memory DuckDB.
func parquetColumns(path string) ([]FlinkColumn, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, fmt.Errorf("read parquet schema: %w", err)
	}
	defer db.Close()
	rows, err := db.Query("DESCRIBE SELECT * FROM read_parquet(" + quoteString(path) + ")")
	if err != nil {
		return nil, fmt.Errorf("read parquet schema of %q: %w", path, err)
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var cols []FlinkColumn
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		name, _ := vals[0].(string)
		typ, _ := vals[1].(string)
		ft, err := duckDBToFlinkType(typ)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", name, err)
		}
		cols = append(cols, FlinkColumn{Name: name, Type: ft})
	}
	return cols, rows.Err()
}

package config

import (
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Audit configures the process's audit log.
type Audit struct {
	Path string `yaml:"path"`
	// SigningKey is a PEM ed25519 private key (`fedctl audit keygen`); with
	// it the log signs its head every SignEvery records (default 1000), every
	// SignInterval (default 1m) and on close, and a site attaches a signed
	// head to every export.
	SigningKey   string   `yaml:"signing_key,omitempty"`
	SignEvery    int      `yaml:"sign_every,omitempty"`
	SignInterval Duration `yaml:"sign_interval,omitempty"`
	// RotateBytes and RotateAge start a new segment (path.000001, …) once
	// the active file is that large or old; 0 never rotates.
	RotateBytes int64    `yaml:"rotate_bytes,omitempty"`
	RotateAge   Duration `yaml:"rotate_age,omitempty"`
}

func (a *Audit) validate(path, file string, p *problems) {
	if a.Path == "" {
		p.add(path+".path", "%v (every process keeps an audit log)", errEmpty)
	}
	a.Path = resolve(file, a.Path)
	if a.SigningKey != "" {
		a.SigningKey = resolve(file, a.SigningKey)
	}
	for _, f := range []struct {
		name string
		bad  bool
	}{{"sign_every", a.SignEvery < 0}, {"sign_interval", a.SignInterval < 0}, {"rotate_bytes", a.RotateBytes < 0}, {"rotate_age", a.RotateAge < 0}} {
		if f.bad {
			p.add(path+"."+f.name, "must not be negative")
		}
	}
}

// Log configures the process's structured logging.
type Log struct {
	Level  string `yaml:"level,omitempty"`  // debug, info (default), warn, error
	Format string `yaml:"format,omitempty"` // text (default), json
}

func (l *Log) validate(path string, p *problems) {
	switch l.Level {
	case "":
		l.Level = "info"
	case "debug", "info", "warn", "error":
	default:
		p.add(path+".level", "unknown level %q (debug, info, warn, error)", l.Level)
	}
	switch l.Format {
	case "":
		l.Format = "text"
	case "text", "json":
	default:
		p.add(path+".format", "unknown format %q (text, json)", l.Format)
	}
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func checkAddr(path, addr string, p *problems) {
	if addr == "" {
		p.add(path, "%v", errEmpty)
		return
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		p.add(path, "%q is not host:port", addr)
	}
}

func checkID(path, id string, p *problems) {
	if id == "" {
		p.add(path, "%v", errEmpty)
		return
	}
	if _, err := spiffeid.FromString(id); err != nil {
		p.add(path, "%q is not a SPIFFE ID: %v", id, err)
	}
}

// Logger builds the process's logger from the log section.
func (l Log) Logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(l.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

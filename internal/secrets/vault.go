package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/fedmesh/fedmesh/internal/logkey"
)

// VaultConfig says where Vault is and how to log in: with a token, or with
// AppRole (RoleID and SecretID) when RoleID is set.
type VaultConfig struct {
	Address string // https://vault.example:8200
	Token   string
	// AppRole login; Mount defaults to "approle".
	RoleID, SecretID, AppRoleMount string
	// Timeout bounds each request (default 10s).
	Timeout time.Duration
}

// Vault reads KV secrets. Run keeps its token's lease renewed (and logs in
// again with AppRole when renewal is no longer possible).
type Vault struct {
	cfg    VaultConfig
	client *vault.Client
	log    *slog.Logger

	mu   sync.Mutex
	auth *vault.Secret // login response (AppRole) or token lookup, for renewal
}

// Errors a caller may test with errors.Is.
var (
	ErrNotFound  = errors.New("no secret at this path")
	ErrForbidden = errors.New("permission denied")
)

// NewVault connects and logs in. With a token it looks the token up, which
// checks it and learns whether its lease can be renewed (Vault's default
// policy allows that; an invalid token fails here with ErrForbidden).
func NewVault(ctx context.Context, cfg VaultConfig, logger *slog.Logger) (*Vault, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Address == "" {
		return nil, errors.New("vault: address: must be set")
	}
	if cfg.Token == "" && cfg.RoleID == "" {
		return nil, fmt.Errorf("vault %s: set a token or an AppRole role_id and secret_id", cfg.Address)
	}
	if cfg.AppRoleMount == "" {
		cfg.AppRoleMount = "approle"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	vc := vault.DefaultConfig()
	vc.Address = cfg.Address
	vc.Timeout = cfg.Timeout
	vc.MaxRetries = 2
	client, err := vault.NewClient(vc)
	if err != nil {
		return nil, fmt.Errorf("vault %s: %w", cfg.Address, err)
	}
	client.ClearNamespace()
	v := &Vault{cfg: cfg, client: client, log: logger.With(logkey.Component, "secrets", logkey.Vault, cfg.Address)}
	if err := v.login(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

func (v *Vault) login(ctx context.Context) error {
	if v.cfg.RoleID != "" {
		path := "auth/" + v.cfg.AppRoleMount + "/login"
		s, err := v.client.Logical().WriteWithContext(ctx, path, map[string]any{
			"role_id": v.cfg.RoleID, "secret_id": v.cfg.SecretID,
		})
		if err != nil {
			return fmt.Errorf("vault %s: approle login at %s: %w", v.cfg.Address, path, classify(err))
		}
		if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
			return fmt.Errorf("vault %s: approle login at %s: no token in the response", v.cfg.Address, path)
		}
		v.client.SetToken(s.Auth.ClientToken)
		v.setAuth(s)
		v.log.InfoContext(ctx, "vault approle login", logkey.TTL, time.Duration(s.Auth.LeaseDuration)*time.Second, logkey.Renewable, s.Auth.Renewable)
		return nil
	}
	v.client.SetToken(v.cfg.Token)
	s, err := v.client.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return fmt.Errorf("vault %s: check token (lookup-self): %w", v.cfg.Address, classify(err))
	}
	ttl, _ := s.TokenTTL()
	renewable, _ := s.TokenIsRenewable()
	v.setAuth(&vault.Secret{Auth: &vault.SecretAuth{ClientToken: v.cfg.Token, Renewable: renewable, LeaseDuration: int(ttl.Seconds())}})
	v.log.InfoContext(ctx, "vault token", logkey.TTL, ttl, logkey.Renewable, renewable)
	return nil
}

func (v *Vault) setAuth(s *vault.Secret) {
	v.mu.Lock()
	v.auth = s
	v.mu.Unlock()
}

// Resolve returns s unchanged unless it is a reference (see IsRef), in
// which case it returns the referenced field's value.
func (v *Vault) Resolve(ctx context.Context, s string) (string, error) {
	if !IsRef(s) {
		return s, nil
	}
	ref, err := ParseRef(s)
	if err != nil {
		return "", err
	}
	return v.Read(ctx, ref)
}

// Read returns one field of a KV secret. Errors name the path and field
// (never the value) and wrap ErrNotFound or ErrForbidden where they apply.
func (v *Vault) Read(ctx context.Context, ref Ref) (string, error) {
	s, err := v.client.Logical().ReadWithContext(ctx, ref.Path)
	if err != nil {
		return "", fmt.Errorf("vault %s: read %s: %w", v.cfg.Address, ref.Path, classify(err))
	}
	if s == nil || s.Data == nil {
		return "", fmt.Errorf("vault %s: read %s: %w", v.cfg.Address, ref.Path, ErrNotFound)
	}
	data := s.Data
	// KV version 2 wraps the fields in "data" next to "metadata"; a
	// deleted version has data: null.
	if inner, ok := data["data"]; ok {
		if _, hasMeta := data["metadata"]; hasMeta {
			m, _ := inner.(map[string]any)
			if m == nil {
				return "", fmt.Errorf("vault %s: read %s: latest version is deleted: %w", v.cfg.Address, ref.Path, ErrNotFound)
			}
			data = m
		}
	}
	val, ok := data[ref.Field]
	if !ok {
		return "", fmt.Errorf("vault %s: secret %s has no field %q", v.cfg.Address, ref.Path, ref.Field)
	}
	switch x := val.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	default:
		return "", fmt.Errorf("vault %s: secret %s field %q is a %T, not a string", v.cfg.Address, ref.Path, ref.Field, val)
	}
}

// classify wraps Vault's HTTP status in ErrNotFound / ErrForbidden.
func classify(err error) error {
	var re *vault.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusForbidden:
			return fmt.Errorf("%w for this token (check its policies): %w", ErrForbidden, err)
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
	}
	return err
}

// Run keeps the token's lease renewed until ctx ends. A token that is not
// renewable (a root token, say) needs nothing and Run just waits. When the
// lease can no longer be renewed (max TTL reached), AppRole logs in again;
// a plain token cannot, and Run returns an error.
func (v *Vault) Run(ctx context.Context) error {
	for {
		v.mu.Lock()
		auth := v.auth
		v.mu.Unlock()
		if auth == nil || auth.Auth == nil || !auth.Auth.Renewable || auth.Auth.LeaseDuration <= 0 {
			<-ctx.Done()
			return nil
		}
		w, err := v.client.NewLifetimeWatcher(&vault.LifetimeWatcherInput{Secret: auth})
		if err != nil {
			return fmt.Errorf("vault %s: token renewal: %w", v.cfg.Address, err)
		}
		go w.Start()
		err = v.watch(ctx, w)
		w.Stop()
		if ctx.Err() != nil {
			return nil
		}
		if v.cfg.RoleID == "" {
			return fmt.Errorf("vault %s: token can no longer be renewed; give the agent a new token: %w", v.cfg.Address, err)
		}
		v.log.Info("vault token lease ending; logging in again with approle", logkey.Err, err)
		if err := v.login(ctx); err != nil {
			return err
		}
	}
}

func (v *Vault) watch(ctx context.Context, w *vault.LifetimeWatcher) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-w.DoneCh():
			if err == nil {
				err = errors.New("lease reached its max TTL")
			}
			return err
		case r := <-w.RenewCh():
			if r != nil && r.Secret != nil && r.Secret.Auth != nil {
				v.log.Debug("vault token renewed", logkey.TTL, time.Duration(r.Secret.Auth.LeaseDuration)*time.Second)
			}
		}
	}
}

package agent

import (
	"context"
	"time"

	"google.golang.org/grpc/credentials"

	"github.com/fedmesh/fedmesh/audit"
	"github.com/fedmesh/fedmesh/certs"
	"github.com/fedmesh/fedmesh/flight"
	"github.com/fedmesh/fedmesh/internal/logkey"
)

// DefaultMaxConnectionAge is how long a coordinator's connection may live
// before it must reconnect (and so present its current SVID to the current
// bundle and allow-list), when Config.MaxConnectionAge is zero.
const DefaultMaxConnectionAge = 30 * time.Minute

// allow is the agent's caller allow-list: exact IDs and prefixes.
func (a *Agent) allow() certs.Allow {
	return certs.Allow{IDs: a.cfg.AllowedCoordinators, Prefixes: a.cfg.AllowedCoordinatorPrefixes}
}

// serverCredentials is the Flight server's mTLS: the source's current SVID
// and bundles on every handshake, callers checked against the allow-list,
// and every refused handshake logged with the claimed peer ID and audited
// as peer_denied.
func (a *Agent) serverCredentials(ctx context.Context, alog *audit.Log) (credentials.TransportCredentials, error) {
	creds, err := flight.ServerCredentials(certs.ServerTLSAllow(a.cfg.Identity, a.allow()))
	if err != nil {
		return nil, err
	}
	return certs.GuardServer(creds, func(r certs.Rejection) {
		log := a.log.With(logkey.Peer, r.PeerID, logkey.Remote, r.Remote, logkey.Reason, r.Reason, logkey.Err, r.Err)
		if !r.Denied() {
			log.Info("peer closed the connection during the handshake")
			return
		}
		log.Warn("refused connection")
		rec := audit.Record{
			Event:   audit.EventPeerDenied,
			Site:    a.cfg.Site,
			Peer:    r.PeerID,
			Reasons: []string{r.Reason},
			Error:   r.Err.Error(),
			Details: map[string]any{"remote": r.Remote},
		}
		// The handshake is already refused; a failed audit write is
		// logged, and the audit log itself fails closed for exports.
		if _, _, err := alog.Append(context.WithoutCancel(ctx), rec); err != nil {
			log.Error("audit peer denial", logkey.AuditErr, err)
		}
	}), nil
}

#!/usr/bin/env bash
# scripts/engines/vault-patch.sh DIR
#
# Makes a copy of github.com/hashicorp/vault v1.21.4 (in DIR) compile
# against github.com/hashicorp/vault/sdk v0.21.0, the newest the module
# proxy serves (Vault's own repo builds with its in-tree ./sdk). Three
# signatures moved apart; each fix is one line and idempotent.
set -euo pipefail
d="$1"

# 1. sdk's framework.Backend.ActivationFunc gained a string argument.
f="$d/vault/identity_store.go"
grep -q 'ActivationFunc: func(ctx context.Context, req \*logical.Request, _ string)' "$f" ||
  sed -i 's|ActivationFunc: iStore.activateDeduplication,|ActivationFunc: func(ctx context.Context, req *logical.Request, _ string) error { return iStore.activateDeduplication(ctx, req) },|' "$f"

# 2. ...and its caller passes it.
f="$d/vault/logical_system_activation_flags.go"
sed -i 's|b.idStoreBackend.ActivationFunc(ctx, nil)|b.idStoreBackend.ActivationFunc(ctx, nil, "")|' "$f"
sed -i 's|ActivationFunc(ctx, nil, "", "")|ActivationFunc(ctx, nil, "")|' "$f"

# 3. sdk's keysutil.LockManager.RestorePolicy returns only an error.
f="$d/builtin/logical/transit/path_restore.go"
sed -i 's|restoredKeyName, err := b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)|restoredKeyName, err := keyName, b.lm.RestorePolicy(ctx, req.Storage, keyName, backupB64, force)|' "$f"

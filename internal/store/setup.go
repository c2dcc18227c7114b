package store

import (
	"context"
	"errors"
	"fmt"

	"entgo.io/ent/privacy"

	"github.com/leadron/leadron/ent"
	"github.com/leadron/leadron/ent/setting"
	"github.com/leadron/leadron/internal/ids"
	"github.com/leadron/leadron/internal/viewer"
)

// alphabetKey is the setting that holds the deployment's ID alphabet.
const alphabetKey = "ids.alphabet"

// LoadCodec returns the deployment's ID codec. The first start creates a
// random alphabet and stores it; every later start reads it back, so IDs are
// stable across restarts.
func LoadCodec(ctx context.Context, client *ent.Client) (*ids.Codec, error) {
	alphabet, err := DeploymentSetting(ctx, client, alphabetKey, ids.NewAlphabet)
	if err != nil {
		return nil, fmt.Errorf("loading the ID alphabet: %w", err)
	}
	return ids.NewCodec(alphabet, ent.IDRangeStarts())
}

// DeploymentSetting returns a deployment-wide setting, creating it with
// generate on first use. Concurrent first starts agree on one value.
func DeploymentSetting(ctx context.Context, client *ent.Client, key string, generate func() (string, error)) (string, error) {
	ctx = viewer.NewContext(ctx, viewer.Platform())
	s, err := client.Setting.Query().Where(setting.Key(key)).Only(ctx)
	if ent.IsNotFound(err) {
		fresh, gerr := generate()
		if gerr != nil {
			return "", gerr
		}
		s, err = client.Setting.Create().SetKey(key).SetValue(fresh).Save(ctx)
		if ent.IsConstraintError(err) {
			// Another process created it first; use theirs.
			s, err = client.Setting.Query().Where(setting.Key(key)).Only(ctx)
		}
	}
	if err != nil {
		return "", err
	}
	return s.Value, nil
}

// SelfCheck proves at startup that the privacy layer is in force: a query
// and a write without a viewer must both be denied. It fails if the
// generated runtime package, which registers the policies, is not linked in.
func SelfCheck(ctx context.Context, client *ent.Client) error {
	ctx = viewer.NewContext(ctx, nil) // whatever the caller carries, check with no viewer
	if _, err := client.Lead.Query().Count(ctx); !errors.Is(err, privacy.Deny) {
		return fmt.Errorf("privacy self-check: a query without a viewer was not denied (got %v); is ent/runtime linked in?", err)
	}
	if _, err := client.Tenant.Create().SetSlug("self-check").SetName("self-check").Save(ctx); !errors.Is(err, privacy.Deny) {
		return fmt.Errorf("privacy self-check: a write without a viewer was not denied (got %v); is ent/runtime linked in?", err)
	}
	return nil
}

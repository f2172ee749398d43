package wizard

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/runnerup/runnerup/internal/safewrite"
	"github.com/runnerup/runnerup/render"
)

// undo runs when render or write fails after GitLab was changed, so no
// change there is left without a word: a runner [gitlab.create] created is
// deleted again; one a registration token registered is unregistered with
// its new token (DELETE /runners, as gitlab-runner register does) unless
// LeaveRunner; a settings update (PUT /runners/:id) cannot be taken back
// and is named in the error. err is returned, wrapped.
func (l *loaded) undo(ctx context.Context, plan Plan, creds *render.Credentials, opts ApplyOptions, res *ApplyResult, err error) error {
	switch {
	case plan.creation != nil && plan.creation.created:
		return plan.creation.rollback(ctx, res.Runner.ID, err)
	case res.Runner.Action == "registered" && creds != nil:
		return l.unregister(ctx, creds.Token, opts, res.Runner.ID, err)
	case res.Runner.SettingsUpdated && plan.Create != nil:
		changes := make([]string, len(plan.Create.Settings))
		for i, s := range plan.Create.Settings {
			changes[i] = s.String()
		}
		return fmt.Errorf("runner #%d's settings in GitLab were already updated (%s) before this failed; fix it and apply again (GitLab's side then matches the answers and stays): %w",
			res.Runner.ID, strings.Join(changes, ", "), err)
	}
	return err
}

// unregister removes the runner this apply registered and could not save,
// as gitlab-runner register does unless --leave-runner.
func (l *loaded) unregister(ctx context.Context, token string, opts ApplyOptions, id int64, err error) error {
	keep := fmt.Errorf("GitLab registered runner #%d but it could not be saved; it was left in GitLab (--leave-runner): remove it there (Settings › CI/CD › Runners) before retrying, or register again and use it: %w", id, err)
	if opts.LeaveRunner {
		return keep
	}
	api, aerr := newGitLab(l.a, opts)
	u, ok := api.(interface {
		Unregister(ctx context.Context, token string) error
	})
	if aerr != nil || !ok {
		return fmt.Errorf("GitLab registered runner #%d but it could not be saved, and it cannot be unregistered from here: remove it in GitLab (Settings › CI/CD › Runners) before retrying: %w", id, err)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.Timeout)
	defer cancel()
	if uerr := u.Unregister(cctx, token); uerr != nil {
		return fmt.Errorf("GitLab registered runner #%d but it could not be saved, and unregistering it failed (%v): remove it in GitLab (Settings › CI/CD › Runners) before retrying: %w", id, uerr, err)
	}
	return fmt.Errorf("GitLab registered runner #%d but it could not be saved, so it was unregistered again (--leave-runner keeps it): %w", id, err)
}

// write is apply's last stage: safewrite.Update takes the files' lock,
// reads them again and writes what render produced; when another process
// changed them since load read them, it renders again from those bytes,
// so concurrent applies never drop each other's edits. res then says what
// was written (backups included).
func (l *loaded) write(r *rendered, plan Plan, creds *render.Credentials, opts ApplyOptions, res *ApplyResult) error {
	tomlPath, jsonPath, idPath := plan.ConfigTOML, r.jsonPath, plan.SystemID.Path
	update := func(cur map[string][]byte) (map[string][]byte, error) {
		curTOML, curJSON := cur[tomlPath], cur[jsonPath]
		now := r.files
		if !bytes.Equal(curTOML, l.oldTOML) || (res.DockerConfig != nil && !bytes.Equal(curJSON, r.oldJSON)) {
			// Another process wrote meanwhile: start from its bytes.
			t, err := findTarget(l.a, curTOML)
			if err != nil {
				return nil, &InputError{Err: fmt.Errorf("%s (changed while applying): %w", tomlPath, err)}
			}
			if (res.Runner.Action == "registered" || res.Runner.Action == "created") && !l.target.found() && t.found() {
				return nil, fmt.Errorf("another process added runner %q to %s while this one was being %s", l.a.GitLab.Name, tomlPath, res.Runner.Action)
			}
			if now, err = renderFiles(l.a, creds, t, curTOML, curJSON, jsonPath, plan.pruneSpec()); err != nil {
				return nil, fmt.Errorf("%s changed while applying: %w", tomlPath, err)
			}
			res.Runner.Appended = now.appended
			res.Pruned = prunedResult(now.pruned)
			res.ConfigTOML.Diff = render.Diff(tomlPath, curTOML, now.toml, r.redactor)
			if res.DockerConfig != nil {
				res.DockerConfig.Diff = render.Diff(jsonPath, curJSON, now.json, r.redactor)
			}
		}
		data := map[string][]byte{tomlPath: now.toml}
		if res.DockerConfig != nil {
			data[jsonPath] = now.json
		}
		if res.SystemID != nil && (plan.SystemID.Write == SystemIDWriteFresh || cur[idPath] == nil && !bytes.Equal(curTOML, now.toml)) {
			data[idPath] = []byte(plan.SystemID.ID)
		}
		return data, nil
	}
	written, err := safewrite.Update(r.write, update, safewrite.Options{Now: opts.Now, LockTimeout: opts.LockTimeout})
	if err != nil {
		return err
	}
	for _, w := range written {
		switch {
		case w.Path == res.ConfigTOML.Path:
			res.ConfigTOML.Changed, res.ConfigTOML.Created, res.ConfigTOML.Backup = w.Changed, w.Created, w.BackupPath
		case res.DockerConfig != nil && w.Path == res.DockerConfig.Path:
			res.DockerConfig.Changed, res.DockerConfig.Created, res.DockerConfig.Backup = w.Changed, w.Created, w.BackupPath
		case res.SystemID != nil && w.Path == res.SystemID.Path:
			res.SystemID.Changed, res.SystemID.Created = w.Changed, w.Created
			if !w.Changed {
				res.SystemID = nil
			}
		}
	}
	res.Changed = res.ConfigTOML.Changed || (res.DockerConfig != nil && res.DockerConfig.Changed) || res.SystemID != nil
	res.NextSteps, res.ServiceAction = nextSteps(res, opts.Paths.Service, l.scan.detected)
	return nil
}

package wizard

import (
	"bytes"
	"context"
	"fmt"

	"github.com/runnerup/runnerup/internal/safewrite"
	"github.com/runnerup/runnerup/render"
)

// undo runs when render or write fails after GitLab was changed, so no
// change there is left without a word: a runner [gitlab.create] created is
// deleted again; one a registration token registered is unregistered with
// its new token (DELETE /runners, as gitlab-runner register does) unless
// LeaveRunner; a settings update (PUT /runners/:id) cannot be taken back
// and is named in the error. err is returned, wrapped.
func (l *loaded) undo(ctx context.Context, plan Plan, creds credResult, opts ApplyOptions, err error) error {
	switch {
	case creds.created:
		return plan.creation.rollback(ctx, creds.id, err)
	case creds.registered:
		return l.unregister(ctx, creds.write.Token, opts, creds.id, err)
	case creds.settingsUpdated && plan.Create != nil:
		return fmt.Errorf("runner #%d's settings in GitLab were already updated (%s) before this failed; fix it and apply again (GitLab's side then matches the answers and stays): %w",
			creds.id, plan.Create.settingsList(), err)
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
	api, aerr := answersGitLab(l.a, opts)
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
// changed them since load read them, it decodes and searches them again
// and renders again from those bytes, so concurrent applies never drop
// each other's edits. It returns what was written (backups included).
func (l *loaded) write(r *rendered, plan Plan, creds credResult, opts ApplyOptions) (*rendered, error) {
	w := *r // r stays as render left it
	if r.dockerConfig != nil {
		dc := *r.dockerConfig
		w.dockerConfig = &dc
	}
	if r.systemID != nil {
		id := *r.systemID
		w.systemID = &id
	}
	tomlPath, jsonPath, idPath := plan.ConfigTOML, r.jsonPath, plan.SystemID.Path
	makesRunner := creds.registered || creds.created
	update := func(cur map[string][]byte) (map[string][]byte, error) {
		curTOML, curJSON := cur[tomlPath], cur[jsonPath]
		now := r.files
		if !bytes.Equal(curTOML, l.data) || (r.dockerConfig != nil && !bytes.Equal(curJSON, r.oldJSON)) {
			// Another process wrote meanwhile: start from its bytes.
			var err error
			if now, err = l.renderAgain(curTOML, curJSON, jsonPath, plan, creds.write, makesRunner); err != nil {
				return nil, err
			}
			c := r.change(tomlPath, curTOML, now.toml)
			w.configTOML.Diff, w.configTOML.Before, w.configTOML.After = c.Diff, c.Before, c.After
			if w.dockerConfig != nil {
				c := r.change(jsonPath, curJSON, now.json)
				w.dockerConfig.Diff, w.dockerConfig.Before, w.dockerConfig.After = c.Diff, c.Before, c.After
			}
		}
		w.files = now
		data := map[string][]byte{tomlPath: now.toml}
		if r.dockerConfig != nil {
			data[jsonPath] = now.json
		}
		if r.systemID != nil && (plan.SystemID.Write == SystemIDWriteFresh || cur[idPath] == nil && !bytes.Equal(curTOML, now.toml)) {
			data[idPath] = []byte(plan.SystemID.ID)
		}
		return data, nil
	}
	written, err := safewrite.Update(r.write, update, safewrite.Options{Now: opts.Now, LockTimeout: opts.LockTimeout})
	if err != nil {
		return nil, err
	}
	for _, f := range written {
		switch {
		case f.Path == w.configTOML.Path:
			w.configTOML.Changed, w.configTOML.Created, w.configTOML.Backup = f.Changed, f.Created, f.BackupPath
		case w.dockerConfig != nil && f.Path == w.dockerConfig.Path:
			w.dockerConfig.Changed, w.dockerConfig.Created, w.dockerConfig.Backup = f.Changed, f.Created, f.BackupPath
		case w.systemID != nil && f.Path == w.systemID.Path:
			w.systemID.Changed, w.systemID.Created = f.Changed, f.Created
			if !f.Changed {
				w.systemID = nil
			}
		}
	}
	return &w, nil
}

// renderAgain renders from config.toml and config.json as another process
// left them while this apply ran: decoded, the runner looked up again.
func (l *loaded) renderAgain(curTOML, curJSON []byte, jsonPath string, plan Plan, creds *render.Credentials, makesRunner bool) (renderedFiles, error) {
	tomlPath := plan.ConfigTOML
	config, err := render.ParseConfig(curTOML)
	if err != nil {
		return renderedFiles{}, &InputError{Err: fmt.Errorf("%s (changed while applying): %w", tomlPath, err)}
	}
	t, err := config.Find(l.a.GitLab.Name, l.a.GitLab.URL, matchToken(l.a))
	if err != nil {
		return renderedFiles{}, &InputError{Err: fmt.Errorf("%s (changed while applying): %w", tomlPath, err)}
	}
	if makesRunner && !l.target.Found() && t.Found() {
		verb := "registered"
		if plan.Action != ActionRegister {
			verb = "created"
		}
		return renderedFiles{}, fmt.Errorf("another process added runner %q to %s while this one was being %s", l.a.GitLab.Name, tomlPath, verb)
	}
	now, err := renderFiles(l.a, creds, t, config, curJSON, jsonPath, plan.pruneSpec())
	if err != nil {
		return renderedFiles{}, fmt.Errorf("%s changed while applying: %w", tomlPath, err)
	}
	return now, nil
}

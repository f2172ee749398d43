package wizard

import (
	"bytes"
	"fmt"

	"github.com/runnerup/runnerup/internal/safewrite"
	"github.com/runnerup/runnerup/render"
)

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
		if res.Runner.Action == "registered" {
			return fmt.Errorf("GitLab registered runner #%d but it could not be saved; remove it in GitLab (Settings › CI/CD › Runners) before retrying: %w", res.Runner.ID, err)
		}
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

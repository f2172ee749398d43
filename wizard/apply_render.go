package wizard

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/runnerup/runnerup/internal/safewrite"
	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/render"
)

// rendered is the render stage's output: the new bytes, and what the write
// stage needs to write them or to render them again.
type rendered struct {
	files    renderedFiles
	oldJSON  []byte
	jsonPath string
	redactor *secret.Redactor
	// write are the files safewrite.Update takes the lock on and writes.
	write []safewrite.File
}

// render is apply's render stage: the new config.toml (and config.json)
// bytes from the files load read, their redacted diffs, and the files to
// write, recorded in res (the dry run stops here). It contacts nothing.
// What to write is decided from the file as load read it; the write stage
// re-reads it under the lock and renders again if it changed.
func (l *loaded) render(plan Plan, creds *render.Credentials, opts ApplyOptions, res *ApplyResult) (*rendered, error) {
	r := &rendered{redactor: redactorFor(l.a, creds), jsonPath: filepath.Join(l.paths.DockerConfigDir, "config.json"), oldJSON: l.oldJSON}
	out, err := renderFiles(l.a, creds, l.target, l.oldTOML, r.oldJSON, r.jsonPath, plan.pruneSpec())
	if err != nil {
		return nil, err
	}
	r.files = out
	res.Warnings = append(res.Warnings, renderWarnings(l.a, l.target.existing, l.oldTOML, out.toml)...)
	res.Runner.Appended = out.appended
	res.Pruned = prunedResult(out.pruned)
	res.ConfigTOML.Diff = render.Diff(plan.ConfigTOML, l.oldTOML, out.toml, r.redactor)
	res.ConfigTOML.Changed = res.ConfigTOML.Diff != ""
	res.ConfigTOML.Created = len(l.oldTOML) == 0 && !fileExists(plan.ConfigTOML)
	r.write = []safewrite.File{{Path: plan.ConfigTOML, Secret: true}}
	if plan.DockerConfig != "" {
		fc := &FileChange{Path: r.jsonPath, Diff: render.Diff(r.jsonPath, r.oldJSON, out.json, r.redactor)}
		fc.Changed, fc.Created = fc.Diff != "", !fileExists(r.jsonPath)
		res.DockerConfig = fc
		r.write = append(r.write, safewrite.File{Path: r.jsonPath, Secret: true})
	}
	id := plan.SystemID
	if id.Write == SystemIDWriteFresh || id.Write == SystemIDWriteWithConfig && res.ConfigTOML.Changed {
		// The runner would create it on start; writing it now keeps the id
		// verify used and the one the runner will send the same.
		res.SystemID = &FileChange{Path: id.Path, Changed: true, Created: !fileExists(id.Path)}
		r.write = append(r.write, safewrite.File{Path: id.Path, Secret: true})
	}
	res.Changed = res.ConfigTOML.Changed || (res.DockerConfig != nil && res.DockerConfig.Changed) || id.Write == SystemIDWriteFresh
	res.NextSteps, res.ServiceAction = nextSteps(res, opts.Paths.Service, l.scan.detected)
	return r, nil
}

// renderedFiles are apply's new config.toml and config.json bytes.
type renderedFiles struct {
	pruned     []prunedEntry
	toml, json []byte
	appended   bool
}

// renderFiles renders both files from their current bytes, t being the
// runner found in oldTOML; json is only rendered when the answers write
// config.json.
func renderFiles(a *Answers, creds *render.Credentials, t target, oldTOML, oldJSON []byte, jsonPath string, prune pruneSpec) (renderedFiles, error) {
	pruned, removed, err := pruneEntries(oldTOML, prune, t.index)
	if err != nil {
		return renderedFiles{}, err
	}
	rendered, err := renderConfig(pruned, a, creds, t.existing)
	if err != nil {
		return renderedFiles{}, err
	}
	out := renderedFiles{toml: rendered.Data, appended: rendered.Appended, pruned: removed}
	if a.WritesDockerConfig() {
		if out.json, err = render.DockerConfig(oldJSON, a.DockerConfigEdit()); err != nil {
			return renderedFiles{}, &InputError{Err: fmt.Errorf("%s: %w", jsonPath, err)}
		}
	}
	return out, nil
}

func renderConfig(old []byte, a *Answers, creds *render.Credentials, existing *render.ExistingRunner) (render.ConfigResult, error) {
	edit, err := a.ConfigEdit(creds, existing)
	if err != nil {
		return render.ConfigResult{}, err
	}
	out, err := render.ConfigTOML(old, edit)
	if err != nil {
		var cerr *render.ConfigTOMLError
		if errors.As(err, &cerr) {
			return render.ConfigResult{}, &InputError{Err: err}
		}
		return render.ConfigResult{}, err
	}
	return renderExtra(out, a)
}

// redactorFor knows every secret of this run, so diffs hide them even where
// no key name gives them away.
func redactorFor(a *Answers, creds *render.Credentials) *secret.Redactor {
	r := &secret.Redactor{}
	r.AddToken(a.GitLab.Token)
	if creds != nil {
		r.AddToken(creds.Token)
	}
	if a.GitLab.Create != nil {
		r.AddToken(a.GitLab.Create.APIToken)
	}
	walkTree(cloneTree(a.Runner.Extra), "runner.extra", func(path string, s *string) {
		if IsSecretField(path) && *s != "" {
			r.AddMasked(*s)
		}
	})
	for _, reg := range a.Registries {
		if reg.Password != "" {
			r.AddMasked(reg.Password)
			r.AddMasked(render.EncodeAuth(reg.Username, reg.Password))
		}
	}
	return r
}

package wizard

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/runnerup/runnerup/internal/safewrite"
	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/render"
)

// rendered is the render stage's output: the new bytes and what they
// change, and what the write stage needs to write them or to render them
// again.
type rendered struct {
	files    renderedFiles
	oldJSON  []byte
	jsonPath string
	redactor *secret.Redactor
	// texts: FileChanges carry the redacted whole files (DiffTexts).
	texts bool
	// configTOML, dockerConfig and systemID say what happens to each
	// file (dockerConfig nil: not written; systemID nil: not written).
	configTOML   FileChange
	dockerConfig *FileChange
	systemID     *FileChange
	warnings     []FieldError
	// write are the files safewrite.Update takes the lock on and writes.
	write []safewrite.File
}

// change says what happens to the file at path going from old to new:
// the redacted diff and, when asked, the redacted whole files.
func (r *rendered) change(path string, old, new []byte) FileChange {
	fc := FileChange{Path: path, Diff: render.Diff(path, old, new, r.redactor)}
	fc.Changed = fc.Diff != ""
	if r.texts && fc.Changed {
		before, after := render.RedactText(string(old), r.redactor), render.RedactText(string(new), r.redactor)
		fc.Before, fc.After = &before, &after
	}
	return fc
}

// changed reports whether writing would change a file.
func (r *rendered) changed() bool {
	return r.configTOML.Changed || r.dockerConfig != nil && r.dockerConfig.Changed || r.systemID != nil
}

// render is apply's render stage: the new config.toml (and config.json)
// bytes from the files load read, their redacted diffs, and the files to
// write (the dry run stops here). It contacts nothing, and neither
// decodes config.toml nor looks for the runner again: load did both.
// What to write is decided from the file as load read it; the write stage
// re-reads it under the lock and renders again if it changed.
func (l *loaded) render(plan Plan, creds *render.Credentials, texts bool) (*rendered, error) {
	r := &rendered{redactor: redactorFor(l.a, creds), jsonPath: filepath.Join(l.paths.DockerConfigDir, "config.json"), oldJSON: l.oldJSON, texts: texts}
	out, err := renderFiles(l.a, creds, l.target.Target, l.config, r.oldJSON, r.jsonPath, plan.pruneSpec())
	if err != nil {
		return nil, err
	}
	r.files = out
	r.warnings = renderWarnings(l.a, l.target.Existing, l.data, out.toml)
	r.configTOML = r.change(plan.ConfigTOML, l.data, out.toml)
	r.configTOML.Created = len(l.data) == 0 && !fileExists(plan.ConfigTOML)
	r.write = []safewrite.File{{Path: plan.ConfigTOML, Secret: true}}
	if plan.DockerConfig != "" {
		fc := r.change(r.jsonPath, r.oldJSON, out.json)
		fc.Created = !fileExists(r.jsonPath)
		r.dockerConfig = &fc
		r.write = append(r.write, safewrite.File{Path: r.jsonPath, Secret: true})
	}
	id := plan.SystemID
	if id.Write == SystemIDWriteFresh || id.Write == SystemIDWriteWithConfig && r.configTOML.Changed {
		// The runner would create it on start; writing it now keeps the id
		// verify used and the one the runner will send the same.
		r.systemID = &FileChange{Path: id.Path, Changed: true, Created: !fileExists(id.Path)}
		r.write = append(r.write, safewrite.File{Path: id.Path, Secret: true})
	}
	return r, nil
}

// renderedFiles are apply's new config.toml and config.json bytes.
type renderedFiles struct {
	pruned     []prunedEntry
	toml, json []byte
	appended   bool
}

// renderFiles renders both files from their current contents: config
// (decoded) holds the runner at t; json is only rendered when the answers
// write config.json.
func renderFiles(a *Answers, creds *render.Credentials, t render.Target, config *render.Config, oldJSON []byte, jsonPath string, prune pruneSpec) (renderedFiles, error) {
	pruned, removed, err := pruneEntries(config, prune, t.Index)
	if err != nil {
		return renderedFiles{}, err
	}
	rendered, err := renderConfig(pruned, a, creds, afterRemoval(t, removed))
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

// afterRemoval is t in the file without the removed entries (t itself is
// never removed): entries before it move it up.
func afterRemoval(t render.Target, removed []prunedEntry) render.Target {
	if !t.Found() {
		return t
	}
	for _, r := range removed {
		if r.Index < t.Existing.Index {
			t.Index--
		}
	}
	return t
}

// renderConfig renders the answers' edit of config at t (found by load:
// render does not look for it again).
func renderConfig(config *render.Config, a *Answers, creds *render.Credentials, t render.Target) (render.ConfigResult, error) {
	edit, err := a.ConfigEdit(creds, t.Existing)
	if err != nil {
		return render.ConfigResult{}, err
	}
	edit.Target = &t
	out, err := config.Edit(edit)
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

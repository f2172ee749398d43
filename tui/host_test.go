package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/runnerup/runnerup/internal/golden"
	"github.com/runnerup/runnerup/probe"
	"github.com/runnerup/runnerup/probe/fleet"
	"github.com/runnerup/runnerup/probe/service"
	"github.com/runnerup/runnerup/wizard"
)

// The review's "This host" block and the fixes it offers (remove stale
// entries, write a fresh system id): shown, never applied without the
// user's key press or answer.

func (f *fakeApply) last() (dry, write wizard.ApplyOptions) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastDry, f.lastWrite
}

// probeWith answers like fakeProbe plus the given results; set replaces
// the extra results for the next runs.
type probeWith struct {
	fakeProbe
	extra []probe.Result
}

func (p *probeWith) probe(ctx context.Context, a *wizard.Answers, onResult func(probe.Result)) ([]probe.Result, error) {
	rs, err := p.fakeProbe.probe(ctx, a, onResult)
	p.mu.Lock()
	extra := append([]probe.Result(nil), p.extra...)
	p.mu.Unlock()
	for _, r := range extra {
		onResult(r)
	}
	return append(rs, extra...), err
}

func (p *probeWith) set(rs ...probe.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.extra = rs
}

var testService = &service.Install{
	Kind: service.Systemd, Name: "gitlab-runner.service", State: "active", Running: true, User: "root",
	ConfigPath: "/etc/gitlab-runner/config.toml", DockerConfigPath: "/root/.docker/config.json",
	RestartCommand: "sudo systemctl restart gitlab-runner.service",
}

func staleResult(name, token string) probe.Result {
	r := fleet.Runner{Index: 0, Name: name, URL: "https://gitlab.example.com", Token: token}
	return probe.Result{
		ID: fleet.RunnerTokenID(name), Title: fmt.Sprintf("Runner %q token on GitLab", name), Status: probe.Warn,
		Finding: fleet.FindingStale, Data: fleet.Stale{Runner: r},
		Detail: fmt.Sprintf("runner %q (token glrt-…%s) is stale", name, token[len(token)-4:]),
		Hint:   "remove the entry: `runnerup apply --prune-stale` (keeps a backup), or delete its [[runners]] block by hand",
	}
}

func systemIDResult(finding string) probe.Result {
	r := probe.Result{ID: fleet.IDSystemID, Title: "Runner system id", Status: probe.Pass, Detail: "system id s_0123456789ab (random)"}
	if finding != "" {
		r.Status, r.Finding = probe.Warn, finding
		r.Detail = "system id s_0123456789ab was derived from another host's machine id"
		r.Hint = "write a fresh random id: `runnerup apply --fresh-system-id`"
	}
	return r
}

// reviewDriver runs the shared flow to the review at 80×24 with the given
// service and extra check results.
func reviewDriver(t *testing.T, svc *service.Install, extra ...probe.Result) (*driver, *fakeApply, *probeWith) {
	t.Helper()
	fa := &fakeApply{}
	fp := &probeWith{extra: extra}
	o := testOptions(t, fa)
	o.ConfigPath = "/srv/runnerup-test/config.toml"
	o.DockerConfigDir = "/srv/runnerup-test/docker"
	o.Probe = fp.probe
	o.Paths.Service = svc
	d := newDriver(t, o)
	d.play(scenarioTo("review"))
	d.wantStep(stepReview)
	return d, fa, fp
}

// flat joins a view's words, so text wrapped over lines still matches.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestReviewShowsHostService: the review opens with the service found and,
// when config.toml goes elsewhere than the service reads, a warning naming
// both paths, on the first 80×24 screen; the checklist does not repeat it.
// Changing the path to the service's file clears the warning.
func TestReviewShowsHostService(t *testing.T) {
	d, _, _ := reviewDriver(t, testService,
		probe.Result{ID: fleet.IDServiceInstall, Title: "GitLab Runner service", Status: probe.Pass, Detail: testService.Summary()},
		probe.Result{ID: fleet.IDServiceConfigPath, Title: "Config file the service reads", Status: probe.Warn, Finding: fleet.FindingConfigPathDiffers,
			Detail: "gitlab-runner.service reads /etc/gitlab-runner/config.toml, but runnerup uses /srv/runnerup-test/config.toml",
			Hint:   "use --config /etc/gitlab-runner/config.toml"},
	)
	v := d.view()
	first := flat(v) // the whole frame is the 80×24 screen
	contains(t, first, "Checks 0 ✗ · 1 ! · 2 ✓ ! registry.registry.test:5000.auth")
	contains(t, first, "This host systemd unit gitlab-runner.service (active) runs as root")
	contains(t, first, "! the service reads /etc/gitlab-runner/config.toml; you are writing /srv/runnerup-test/config.toml — p changes the paths ✓")
	notContains(t, v, "Config file the service reads") // said once, in the host block
	notContains(t, v, "GitLab Runner service")
	contains(t, v, "✓ GitLab TLS") // the rest of the checklist is still there
	golden.Assert(t, "testdata/TestReviewShowsHostService/review.golden", []byte(v))

	// Write where the service reads: the warning goes.
	d.keys("p")
	d.wantFocus("output.config_toml")
	d.keys("ctrl+a", "ctrl+k")
	d.typ("/etc/gitlab-runner/config.toml")
	d.keys("enter", "enter")
	if d.m.review.pathsForm != nil || d.m.paths.ConfigTOML != "/etc/gitlab-runner/config.toml" {
		t.Fatalf("paths = %+v", d.m.paths)
	}
	v = flat(d.view())
	contains(t, v, "This host systemd unit gitlab-runner.service (active) runs as root, reads /etc/gitlab-runner/config.toml ✓")
	notContains(t, v, "the service reads")
}

// TestReviewHostWithoutService: detection ran and found nothing; without
// detection the review says nothing about a service.
func TestReviewHostWithoutService(t *testing.T) {
	d, _, _ := reviewDriver(t, nil,
		probe.Result{ID: fleet.IDServiceInstall, Title: "GitLab Runner service", Status: probe.Skip, Detail: "no gitlab-runner service found (systemd units, containers on the Docker daemon)"},
		probe.Result{ID: fleet.IDServiceConfigPath, Title: "Config file the service reads", Status: probe.Skip, Detail: "no service found to compare with"},
		probe.Result{ID: fleet.IDServiceDockerConfig, Title: "Docker config.json the runner reads", Status: probe.Skip, Detail: "no service found to compare with"},
	)
	v := d.view()
	contains(t, flat(v), "Checks 0 ✗ · 1 ! · 2 ✓ ! registry.registry.test:5000.auth")
	contains(t, flat(v), "This host no gitlab-runner service found ✓")
	notContains(t, v, "no service found to compare with")

	d, _, _ = reviewDriver(t, nil)
	notContains(t, d.view(), "This host")
}

// TestReviewHostNotRunning: a service that is not running is a warning of
// the host block with its hint (the command that starts it).
func TestReviewHostNotRunning(t *testing.T) {
	svc := *testService
	svc.State, svc.Running = "inactive", false
	d, _, _ := reviewDriver(t, &svc,
		probe.Result{ID: fleet.IDServiceInstall, Title: "GitLab Runner service", Status: probe.Warn, Finding: fleet.FindingServiceNotRunning,
			Detail: svc.Summary() + "; it is not running, so no job will run", Hint: "start it: " + svc.RestartCommand},
	)
	contains(t, flat(d.view()), "! gitlab-runner.service is not running, so no job will run — start it: sudo systemctl restart gitlab-runner.service")
}

// TestReviewFleetWarningsShowHints: the other host checks' warnings are in
// the checklist with their hints.
func TestReviewFleetWarningsShowHints(t *testing.T) {
	dup := probe.Result{ID: fleet.IDDuplicates, Title: "Duplicate [[runners]] entries", Status: probe.Warn, Finding: fleet.FindingDuplicateToken,
		Detail: "entries #1 and #2 share token glrt-…abcd", Hint: "keep one entry per runner"}
	exp := probe.Result{ID: fleet.RunnerExpiryID("old-box"), Title: `Runner "old-box" token expiry`, Status: probe.Warn, Finding: fleet.FindingTokenExpiring,
		Detail: "token expires in 48h", Hint: "a running runner rotates its token by itself"}
	proxy := probe.Result{ID: fleet.IDProxy, Title: "Proxies", Status: probe.Warn, Finding: fleet.FindingProxyGitLabDiffers,
		Detail: "this shell reaches GitLab through a proxy, the service directly", Hint: "set the same proxy for the service"}
	d, _, _ := reviewDriver(t, nil, dup, exp, proxy)
	d.send(tea.WindowSizeMsg{Width: 80, Height: 72})
	v := d.view()
	for _, r := range []probe.Result{dup, exp, proxy} {
		contains(t, flat(v), "! "+r.ID+" "+r.Title+" — "+r.Detail)
		contains(t, flat(v), "hint: "+r.Hint)
	}
}

// TestReviewPruneNeedsConsent: stale entries are offered for removal; only
// x makes the dry run and the write remove them, and both get the same
// list. Without x nothing is removed.
func TestReviewPruneNeedsConsent(t *testing.T) {
	stale := staleResult("old-box", "glrt-staleSTALEstale0001")
	want := stale.Data.(fleet.Stale).Runner

	t.Run("x", func(t *testing.T) {
		d, fa, _ := reviewDriver(t, nil, stale)
		v := d.view()
		contains(t, v, `[ ] x  remove 1 stale runner entry from config.toml ("old-box"; backup kept)`)
		contains(t, v, "x remove stale")
		contains(t, flat(v), "! "+stale.ID+` Runner "old-box" token on GitLab — runner "old-box" (token glrt-…0001) is stale`)
		contains(t, flat(v), "hint: remove the entry: `runnerup apply --prune-stale` (keeps a backup), or delete its [[runners]] block by hand")
		if dry, _ := fa.last(); len(dry.Prune) != 0 {
			t.Fatalf("the dry run removes entries without consent: %+v", dry.Prune)
		}
		dryBefore, _ := fa.counts()
		d.keys("x")
		dry, _ := fa.last()
		if n, _ := fa.counts(); n != dryBefore+1 || len(dry.Prune) != 1 || dry.Prune[0] != want || dry.PruneStale {
			t.Fatalf("after x: %d dry runs (was %d), Prune %+v PruneStale %v", n, dryBefore, dry.Prune, dry.PruneStale)
		}
		d.send(tea.WindowSizeMsg{Width: 80, Height: 72})
		v = d.view()
		contains(t, v, `[x] x  remove 1 stale runner entry`)
		contains(t, v, `-  name = "old-box"`) // the diff shows the removal
		d.send(tea.WindowSizeMsg{Width: 80, Height: 24})

		d.keys("w")
		d.wantStep(stepWrite)
		_, write := fa.last()
		if len(write.Prune) != 1 || write.Prune[0] != want {
			t.Fatalf("the write got Prune %+v, want %+v", write.Prune, want)
		}
		d.keys("n") // no answers file
		d.wantStep(stepDone)
		v = flat(d.view())
		contains(t, v, `removed stale runner "old-box" (https://gitlab.example.com, token`)
		contains(t, v, "1. a running gitlab-runner reloads config.toml within 3 s") // apply's next steps
	})

	t.Run("x twice", func(t *testing.T) {
		d, fa, _ := reviewDriver(t, nil, stale)
		d.keys("x", "x")
		if dry, _ := fa.last(); len(dry.Prune) != 0 {
			t.Fatalf("x twice still removes: %+v", dry.Prune)
		}
		contains(t, d.view(), "[ ] x")
		d.keys("w")
		if _, write := fa.last(); len(write.Prune) != 0 {
			t.Fatalf("the write removes entries: %+v", write.Prune)
		}
	})

	t.Run("without x", func(t *testing.T) {
		d, fa, _ := reviewDriver(t, nil, stale)
		d.keys("w")
		d.wantStep(stepWrite)
		_, write := fa.last()
		if _, writes := fa.counts(); writes != 1 || len(write.Prune) != 0 || write.PruneStale {
			t.Fatalf("%d writes; Prune %+v PruneStale %v without consent", writes, write.Prune, write.PruneStale)
		}
		notContains(t, d.view(), "removed stale runner")
	})

	t.Run("no stale entries", func(t *testing.T) {
		d, fa, _ := reviewDriver(t, nil)
		notContains(t, d.view(), "remove stale")
		before, _ := fa.counts()
		d.keys("x")
		if after, _ := fa.counts(); after != before || d.m.review.prune {
			t.Fatalf("x without stale entries: %d dry runs (was %d), prune %v", after, before, d.m.review.prune)
		}
	})

	// Consent is for the entries shown: when a recheck finds others, it
	// is withdrawn and the dry run no longer removes anything.
	t.Run("recheck finds other entries", func(t *testing.T) {
		d, fa, fp := reviewDriver(t, nil, stale)
		d.keys("x")
		if dry, _ := fa.last(); len(dry.Prune) != 1 {
			t.Fatalf("Prune %+v", dry.Prune)
		}
		fp.set(stale, staleResult("older-box", "glrt-staleSTALEstale0002"))
		d.keys("r")
		if d.m.review.prune {
			t.Fatal("consent kept for a different set of entries")
		}
		if dry, _ := fa.last(); len(dry.Prune) != 0 {
			t.Fatalf("the dry run after the recheck removes %+v", dry.Prune)
		}
		contains(t, flat(d.view()), `[ ] x remove 2 stale runner entries from config.toml ("old-box", "older-box"; backup kept)`)
	})
}

// TestReviewFreshSystemIDNeedsConsent: a cloned, shared or invalid system
// id is offered a fresh one; n sets FreshSystemID on the dry run and the
// write, nothing does without it, and a sound id offers nothing.
func TestReviewFreshSystemIDNeedsConsent(t *testing.T) {
	for _, finding := range []string{fleet.FindingSystemIDCloned, fleet.FindingSystemIDShared, fleet.FindingSystemIDInvalid} {
		t.Run(finding, func(t *testing.T) {
			d, fa, _ := reviewDriver(t, nil, systemIDResult(finding))
			v := d.view()
			contains(t, v, "[ ] n  write a fresh system id (")
			contains(t, v, "n new system id")
			if dry, _ := fa.last(); dry.FreshSystemID {
				t.Fatal("the dry run writes a fresh id without consent")
			}
			d.keys("n")
			if dry, _ := fa.last(); !dry.FreshSystemID {
				t.Fatal("n did not re-run the dry run with FreshSystemID")
			}
			v = d.view()
			contains(t, v, "[x] n  write a fresh system id")
			contains(t, v, "system id    r_fReShfReShfReS") // from the dry run
			d.keys("w")
			if _, write := fa.last(); !write.FreshSystemID {
				t.Fatal("the write did not get FreshSystemID")
			}
			d.keys("n")
			d.wantStep(stepDone)
			contains(t, d.view(), "(system id r_fReShfReShfReS)")
		})
	}
	t.Run("without n", func(t *testing.T) {
		d, fa, _ := reviewDriver(t, nil, systemIDResult(fleet.FindingSystemIDCloned))
		d.keys("w")
		if _, write := fa.last(); write.FreshSystemID {
			t.Fatal("the write got FreshSystemID without consent")
		}
	})
	t.Run("sound id", func(t *testing.T) {
		d, fa, _ := reviewDriver(t, nil, systemIDResult(""))
		notContains(t, d.view(), "fresh system id")
		notContains(t, d.view(), "new system id")
		d.keys("n")
		if dry, _ := fa.last(); dry.FreshSystemID || d.m.review.freshID {
			t.Fatal("n without an offer changed the dry run")
		}
	})
}

// TestReviewOffersGolden: both offers and a service elsewhere on one
// 80×24 screen; the footer keeps w, x, n and drops what does not fit.
func TestReviewOffersGolden(t *testing.T) {
	d, _, _ := reviewDriver(t, testService, staleResult("old-box", "glrt-staleSTALEstale0001"), systemIDResult(fleet.FindingSystemIDCloned))
	d.keys("x")
	v := d.view()
	for _, want := range []string{"w write", "x remove stale", "n new system id", "p paths"} {
		contains(t, v, want)
	}
	for i, l := range strings.Split(v, "\n") {
		if w := len([]rune(l)); w > 80 {
			t.Errorf("line %d is %d wide: %q", i, w, l)
		}
	}
	golden.Assert(t, "testdata/TestReviewOffersGolden/review.golden", []byte(v))
}

// TestAccessibleFixQuestions: the plain UI shows this host and asks the
// two fixes as yes/no questions (default no) after the checks and before
// the write; the answers reach the dry run and the write.
func TestAccessibleFixQuestions(t *testing.T) {
	stale := staleResult("old-box", "glrt-staleSTALEstale0001")
	for _, tt := range []struct {
		name         string
		prune, fresh string
		wantPrune    bool
		wantFresh    bool
	}{
		{"yes yes", "y", "y", true, true},
		{"no no", "n", "n", false, false},
		{"defaults", "", "", false, false},
		{"no yes", "n", "y", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fa := &fakeApply{}
			fp := &probeWith{extra: []probe.Result{stale, systemIDResult(fleet.FindingSystemIDCloned),
				{ID: fleet.IDServiceInstall, Title: "GitLab Runner service", Status: probe.Pass, Detail: testService.Summary()}}}
			o := testOptions(t, fa)
			o.Probe = fp.probe
			o.Paths.Service = testService
			lines := strings.Split(strings.TrimSuffix(scenarioLines("https://gitlab.example.com", false, ""), "\n"), "\n")
			// After the registry questions (the checks run then), before
			// "change paths".
			at := len(lines) - 3
			lines = append(lines[:at], append([]string{tt.prune, tt.fresh}, lines[at:]...)...)
			res, out, err := runAccessibleLines(t, o, strings.Join(lines, "\n")+"\n")
			if err != nil || res.Result == nil {
				t.Fatalf("run: %v\n%s", err, out)
			}
			dry, write := fa.last()
			for name, ao := range map[string]wizard.ApplyOptions{"dry run": dry, "write": write} {
				if got := len(ao.Prune) == 1 && ao.Prune[0] == stale.Data.(fleet.Stale).Runner; got != tt.wantPrune || (!tt.wantPrune && len(ao.Prune) > 0) {
					t.Errorf("%s: Prune %+v, want removal %v", name, ao.Prune, tt.wantPrune)
				}
				if ao.FreshSystemID != tt.wantFresh {
					t.Errorf("%s: FreshSystemID %v, want %v", name, ao.FreshSystemID, tt.wantFresh)
				}
			}
			q1 := `Remove 1 stale runner entry from config.toml ("old-box"; backup kept)?`
			q2 := "Write a fresh system id? (the current one is cloned from another host)"
			checks, review := strings.Index(out, "== Checks =="), strings.Index(out, "== Review ==")
			i1, i2, iw := strings.Index(out, q1), strings.Index(out, q2), strings.Index(out, "Write these files now?")
			if !(checks < i1 && i1 < i2 && i2 < review && review < iw) {
				t.Errorf("order: checks %d, prune question %d, system id question %d, review %d, write %d\n%s", checks, i1, i2, review, iw, out)
			}
			contains(t, out, "This host: "+testService.Summary())
			contains(t, out, "! the service reads /etc/gitlab-runner/config.toml; you are writing "+o.ConfigPath)
			contains(t, out, `hint: answer yes to "Change where the files are written?"`)
			if strings.Count(out, testService.Summary()) != 1 {
				t.Errorf("the service summary is printed more than once:\n%s", out)
			}
			if got := strings.Contains(out, `removed stale runner "old-box"`); got != tt.wantPrune {
				t.Errorf("removal reported %v, want %v\n%s", got, tt.wantPrune, out)
			}
			contains(t, out, "1. a running gitlab-runner reloads config.toml within 3 s")
		})
	}
}

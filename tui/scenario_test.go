package tui

import (
	"strings"
	"testing"
	"time"
)

// The one wizard run several tests share: docker executor, one service,
// basic auth for a private registry, Docker Hub left anonymous (and not
// asked about: nothing calls for a login there).
const (
	scToken    = "glrt-abcdefghijklmnopqrstuvwx"
	scImage    = "registry.test:5000/ci/build:1"
	scService  = "postgres:16"
	scUser     = "ci"
	scPassword = "s3cret-pass"
)

// flowStep waits for a field to have focus (or for a step, when focus is
// empty), then types text and presses keys.
type flowStep struct {
	focus string
	step  step
	ready bool // wait until the dry run / write finished
	text  string
	keys  []string
}

// scenarioFlow is the key sequence of the shared run, through the write
// step; save says whether the answers file is saved (to savePath). The
// settings most users keep stay behind ctrl+o, as in the goal walk.
func scenarioFlow(url string, save bool, savePath string) []flowStep {
	steps := []flowStep{
		{focus: "gitlab.url", text: url, keys: []string{"enter"}},
		{focus: "gitlab.create", keys: []string{"enter"}}, // yes, a runner token
		{focus: "gitlab.token", text: scToken, keys: []string{"enter"}},
		{focus: "runner.executor", keys: []string{"enter"}},
		{focus: "docker.image", text: scImage, keys: []string{"enter"}},
		{step: stepServices, keys: []string{"a"}},
		{focus: "docker.services[0].name", text: scService, keys: []string{"enter"}},
		{focus: "docker.services[0].alias", text: "db", keys: []string{"enter"}},
		{step: stepServices, keys: []string{"enter"}},
		{focus: "registries[0].method", keys: []string{"down", "enter"}},
		{focus: "registries[0].username", text: scUser, keys: []string{"enter"}},
		{focus: "registries[0].password", text: scPassword, keys: []string{"enter"}},
		{step: stepReview, ready: true, keys: []string{"w"}},
	}
	if save {
		steps = append(steps,
			flowStep{focus: "save", keys: []string{"ctrl+o", "enter"}},
			flowStep{focus: "save.path", keys: []string{"ctrl+a", "ctrl+k"}},
			flowStep{focus: "save.path", text: savePath, keys: []string{"enter"}},
			flowStep{focus: "save.secrets", keys: []string{"enter"}},
		)
	} else {
		steps = append(steps, flowStep{focus: "save", keys: []string{"n"}})
	}
	return steps
}

// upTo is flow up to, not including, the first step that waits for the
// focus (or, with focus "", for step s).
func upTo(flow []flowStep, focus string, s step) []flowStep {
	for i, f := range flow {
		if (focus != "" && f.focus == focus) || (focus == "" && f.focus == "" && f.step == s) {
			return flow[:i]
		}
	}
	panic("flow has no step " + focus)
}

// scenarioTo is the shared run up to a point: a focus key, or one of
// "services" (the list), "review", "write" (w pressed on the review).
func scenarioTo(point string) []flowStep {
	flow := scenarioFlow("https://gitlab.example.com", false, "")
	switch point {
	case "services":
		return upTo(flow, "", stepServices)
	case "review":
		return upTo(flow, "", stepReview)
	case "write":
		return flow[:len(upTo(flow, "", stepReview))+1]
	}
	return upTo(flow, point, 0)
}

// scenarioLines are the same answers as accessible-mode input lines.
func scenarioLines(url string, save bool, savePath string) string {
	lines := []string{
		url,     // GitLab URL
		"",      // a runner token at hand: yes
		scToken, // runner token
		"",      // runner name: default (host name)
		"",      // TLS CA file
		"",      // executor: docker (default)
		scImage, // default image
		"",      // privileged: off
		"",      // volumes: /cache, a new runner's
		"",      // pull policy: default
		"",      // concurrent: 1, a new file's
		"y",     // add a service
		scService,
		"db",
		"",  // more options: no
		"n", // add another: no
		"2", // registry.test:5000: basic
		scUser,
		scPassword,
		"",  // target: docker-config (Docker Hub is not asked: nothing calls for a login there)
		"",  // change paths: no
		"y", // write
	}
	if save {
		lines = append(lines, "y", savePath, "")
	} else {
		lines = append(lines, "n")
	}
	return strings.Join(lines, "\n") + "\n"
}

// play runs a flow on the synchronous driver.
func (d *driver) play(steps []flowStep) {
	d.t.Helper()
	for i, s := range steps {
		if s.focus != "" {
			if got := d.focus(); got != s.focus {
				d.t.Fatalf("flow step %d: focus = %q, want %q\nview:\n%s", i, got, s.focus, d.view())
			}
		} else if d.m.step != s.step {
			d.t.Fatalf("flow step %d: step = %d, want %d\nview:\n%s", i, d.m.step, s.step, d.view())
		}
		d.typ(s.text)
		d.keys(s.keys...)
	}
}

// waitSnap polls a running program's snapshot until the flow step's
// condition holds.
func waitSnap(t *testing.T, snap *snapshot, s flowStep, i int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, focus, ready := snap.get()
		ok := (s.focus != "" && focus == s.focus) || (s.focus == "" && st == s.step && focus == "")
		if ok && (!s.ready || ready) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("flow step %d: waiting for focus %q / step %d; at step %d focus %q ready %v", i, s.focus, s.step, st, focus, ready)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

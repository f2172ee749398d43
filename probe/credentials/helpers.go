package credentials

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/docker/docker-credential-helpers/client"
	helpercreds "github.com/docker/docker-credential-helpers/credentials"

	"github.com/runnerup/runnerup/internal/secret"
	"github.com/runnerup/runnerup/probe"
)

// helperRefs lists the helpers DOCKER_AUTH_CONFIG and the home config
// name, one per helper name, without running any.
func (r Resolver) helperRefs() []helperRef {
	byName := map[string]*helperRef{}
	var order []string
	for _, raw := range []rawSource{r.authConfigSource(), r.homeSource()} {
		if !raw.present {
			continue
		}
		for _, h := range helperNames(raw.data, raw.name) {
			cur := byName[h.name]
			if cur == nil {
				cp := h
				byName[h.name], order = &cp, append(order, h.name)
				continue
			}
			cur.store = cur.store || h.store
			for _, k := range h.keys {
				if !slices.Contains(cur.keys, k) {
					cur.keys = append(cur.keys, k)
				}
			}
			if !strings.Contains(cur.source, h.source) {
				cur.source += ", " + h.source
			}
		}
	}
	out := make([]helperRef, 0, len(order))
	for _, n := range order {
		out = append(out, *byName[n])
	}
	return out
}

// helperResult checks one helper as the runner will use it: a bare name,
// found on the runner's PATH, answering list (credsStore) and get within
// the deadline.
func helperResult(ctx context.Context, r Resolver, hr helperRef) probe.Result {
	bin := helperPrefix + hr.name
	role := "credHelpers"
	if hr.store {
		role = "credsStore"
	}
	where := fmt.Sprintf("%s in %s", role, hr.source)
	if hr.name == "" {
		return probe.Failf("remove the entry or name a helper",
			"an empty helper name (%s) counts as a path to the runner (filepath.Base(\"\") is \".\"): it answers %q and fails every image pull", where, errPathTraversal.Error())
	}
	if hr.name != filepath.Base(hr.name) {
		return probe.Failf("name the helper by its suffix only (\"desktop\", \"ecr-login\") and put docker-credential-<suffix> on the runner's PATH",
			"helper %q (%s) has a path component: the runner answers %q and fails every image pull", hr.name, where, errPathTraversal.Error())
	}
	path, err := r.lookPath()(bin)
	if err != nil {
		hint := fmt.Sprintf("install %s on the runner's PATH (the service's, not your login shell's) or remove the %s entry", bin, role)
		if hr.store {
			hint = fmt.Sprintf("credsStore %q with no %s discards the whole source, plain auths included: the runner drops every credential in %s (credstore-helper-missing); install the helper or remove credsStore (a Docker Desktop config copied to a server is the usual cause)", hr.name, bin, hr.source)
		}
		miss, how := r.missingHelper(bin)
		switch {
		case how != "" && hr.store:
			hint = how + "; " + hint
		case how != "":
			hint = how + "; or remove the credHelpers entry"
		}
		return probe.Failf(hint, "%s (%s) is not usable: %v%s%s", bin, where, err, miss, r.processNotes())
	}
	if r.LookupOnly {
		return probe.Passf("%s at %s (%s)%s%s; not run (check contacts nothing)", bin, path, where, r.asUser(), r.processNotes())
	}

	red := &secret.Redactor{}
	prog := r.program(ctx)(bin)
	keys := slices.Clone(hr.keys)
	if hr.store {
		listed, err := client.List(prog)
		if res, done := helperErr(ctx, red, bin, "list", err); done {
			return res
		}
		keys = append(keys, slices.Sorted(maps.Keys(listed))...)
	}
	var answered, notFound []string
	for _, k := range keys {
		c, err := client.Get(prog, k)
		if helpercreds.IsErrCredentialsNotFound(err) {
			notFound = append(notFound, fmt.Sprintf("%q", k))
			continue
		}
		if res, done := helperErr(ctx, red, bin, "get "+k, err); done {
			return res
		}
		red.AddMasked(c.Secret)
		who := "user " + c.Username
		if c.Username == tokenUsername {
			who = "an identity token"
		}
		answered = append(answered, fmt.Sprintf("%q (%s)", k, who))
	}

	detail := fmt.Sprintf("%s at %s (%s)%s%s", bin, path, where, r.asUser(), r.processNotes())
	if hr.store {
		detail += fmt.Sprintf("; list: %d server(s)", len(keys)-len(hr.keys))
	}
	if len(answered) > 0 {
		detail += "; get answered for " + strings.Join(answered, ", ")
	}
	if len(notFound) > 0 {
		return probe.Result{Status: probe.Warn, Detail: scrub(red, detail+"; \"credentials not found\" for "+strings.Join(notFound, ", ")),
			Hint: "the runner keeps an empty entry for these keys that matches no image (and replaces any auths entry under the same key); give the helper what it needs in the runner's context (for ecr-login: an AWS identity and region for the runner user)"}
	}
	return probe.Result{Status: probe.Pass, Detail: scrub(red, detail)}
}

// helperErr turns a helper call's error into a failed result.
func helperErr(ctx context.Context, red *secret.Redactor, bin, action string, err error) (probe.Result, bool) {
	if err == nil {
		return probe.Result{}, false
	}
	if ctx.Err() != nil {
		return probe.Failf("the runner calls helpers without a deadline, so a hanging helper hangs every job; check it interactively as the runner user",
			"%s %s did not answer in time: %v", bin, action, ctx.Err()), true
	}
	return probe.Failf("a failing helper makes the runner discard the whole source, plain auths included (credhelper-failed)",
		"%s %s failed: %s", bin, action, scrub(red, err.Error())), true
}

// Command registerflags-gen writes wizard/registerflags_table.go: every flag
// of `gitlab-runner register` with its environment variable, the
// config.toml key it sets and its value kind, read from GitLab Runner's own
// source so the table can be regenerated when the runner changes.
//
// The [[runners]] rows walk common.RunnerConfig with the rules of
// gitlab.com/gitlab-org/golang-cli-helpers (GetFlagsFromStruct, which
// `gitlab-runner register` uses): short and long names joined to their
// namespaces with "-", env names as tagged ("@" names upper-cased with the
// namespace), a struct field a flag set only through a namespace tag (or
// when embedded), a struct field without one no flag at all. The result is
// checked against GetFlagsFromStruct itself (names and env variables), so
// a rule the walk gets wrong fails here instead of shipping a wrong table.
// The "register." rows are RegisterCommand's own fields
// (commands/register.go), read from the module's source, then its
// --template-config (configTemplate, namespace "template").
//
// It is its own module (it needs the runner's module, which the main
// module must not) and, like ../shared/tools/runner-oracle, replaces the
// three runner dependencies the module proxy refuses with that tool's
// stubs, so ../shared must be beside the repository. Run it from the
// repository root:
//
//	(cd tools/registerflags-gen && go run . -o ../../wizard/registerflags_table.go)
//
// wizard's TestRegisterFlagTableInSync runs it (offline, GOPROXY=off) and
// compares.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli"
	"gitlab.com/gitlab-org/gitlab-runner/common"
	clihelpers "gitlab.com/gitlab-org/golang-cli-helpers"
)

const runnerModule = "gitlab.com/gitlab-org/gitlab-runner"

// row is one line of the table.
type row struct {
	names []string // short first
	env   string
	key   string
	kind  string
}

func (r row) String() string {
	env := r.env
	if env == "" {
		env = "-"
	}
	return fmt.Sprintf("%s %s %s %s", strings.Join(r.names, ","), env, r.key, r.kind)
}

func main() {
	out := flag.String("o", "", "write the Go file here (default: stdout)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "registerflags-gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	dir, version, err := moduleDir()
	if err != nil {
		return err
	}
	reg, err := registerRows(filepath.Join(dir, "commands"))
	if err != nil {
		return err
	}
	var runners []row
	walk(reflect.TypeOf(common.RunnerConfig{}), nil, []string{"runners"}, &runners)
	if err := crossCheck(runners); err != nil {
		return err
	}
	src, err := render(append(reg, runners...), version)
	if err != nil {
		return err
	}
	if out == "" {
		_, err = os.Stdout.Write(src)
		return err
	}
	return os.WriteFile(out, src, 0o644)
}

// moduleDir is where the go command keeps the runner module's source, and
// its version.
func moduleDir() (dir, version string, err error) {
	b, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}} {{.Version}}", runnerModule).Output()
	if err != nil {
		return "", "", fmt.Errorf("finding %s: %w", runnerModule, err)
	}
	dir, version, _ = strings.Cut(strings.TrimSpace(string(b)), " ")
	if dir == "" {
		return "", "", fmt.Errorf("%s is not in the module cache", runnerModule)
	}
	return dir, version, nil
}

// walk follows golang-cli-helpers' getFlagsForStructField over t; ns are
// the flag namespaces so far, path the config.toml keys.
func walk(t reflect.Type, ns, path []string, out *[]row) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fpath := path
		if name := tomlName(f); name != "" {
			fpath = append(append([]string{}, path...), name)
		}
		ft := f.Type
		switch ft.Kind() {
		case reflect.Struct:
			switch {
			case f.Tag.Get("namespace") != "":
				walk(ft, append(append([]string{}, ns...), f.Tag.Get("namespace")), fpath, out)
			case f.Anonymous:
				walk(ft, ns, path, out)
			}
			continue
		case reflect.Pointer:
			if ft.Elem().Kind() == reflect.Struct {
				if n := f.Tag.Get("namespace"); n != "" {
					walk(ft, append(append([]string{}, ns...), n), fpath, out)
				}
				continue
			}
		case reflect.Chan, reflect.Func, reflect.Interface, reflect.UnsafePointer:
			continue
		}
		if r, ok := flagRow(f, ns, fpath); ok {
			*out = append(*out, r)
		}
	}
}

// tomlName is the config.toml key of a field ("" for an embedded struct
// without one, whose keys are inlined).
func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "" && !f.Anonymous {
		return f.Name
	}
	return name
}

// flagRow is getStructFieldFlag: no short or long name, no flag.
func flagRow(f reflect.StructField, ns, path []string) (row, bool) {
	var names []string
	for _, tag := range []string{"short", "long"} {
		if n := f.Tag.Get(tag); n != "" {
			names = append(names, strings.Join(append(append([]string{}, ns...), n), "-"))
		}
	}
	if len(names) == 0 {
		return row{}, false
	}
	env := f.Tag.Get("env")
	if rest, ok := strings.CutPrefix(env, "@"); ok {
		env = strings.ReplaceAll(strings.ToUpper(strings.Join(append(append([]string{}, ns...), rest), "_")), "-", "_")
	}
	return row{names: names, env: env, key: strings.Join(path, "."), kind: kind(f.Type)}, true
}

var (
	durationType    = reflect.TypeOf(time.Duration(0))
	unmarshalerType = reflect.TypeOf((*clihelpers.Unmarshaler)(nil)).Elem()
)

// kind is how a flag value becomes the field's value (golang-cli-helpers'
// convert): scalars, a list (the flag repeated), KEY:VALUE maps, and types
// with their own UnmarshalFlag (csv when that splits a list of strings).
func kind(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String {
			return "csv"
		}
		return "custom:" + t.Name()
	}
	if t == durationType {
		return "duration"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.Slice:
		return "list:" + kind(t.Elem())
	case reflect.Map:
		return "map:" + kind(t.Elem())
	}
	return "other:" + t.String()
}

// crossCheck compares the walk with GetFlagsFromStruct: the same flags, in
// the same order, with the same env variables.
func crossCheck(rows []row) error {
	flags := clihelpers.GetFlagsFromStruct(&common.RunnerConfig{})
	if len(flags) != len(rows) {
		return fmt.Errorf("golang-cli-helpers makes %d flags of common.RunnerConfig, the walk %d", len(flags), len(rows))
	}
	for i, f := range flags {
		sf, ok := f.(clihelpers.StructFieldFlag)
		if !ok {
			return fmt.Errorf("flag %s is a %T, not a StructFieldFlag", f.GetName(), f)
		}
		want := strings.Join(rows[i].names, ", ")
		if sf.Name != want || sf.EnvVar != rows[i].env {
			return fmt.Errorf("flag %d: golang-cli-helpers says %q (env %q), the walk %q (env %q)", i, sf.Name, sf.EnvVar, want, rows[i].env)
		}
	}
	return nil
}

var _ cli.Flag = clihelpers.StructFieldFlag{}

// registerRows reads RegisterCommand's own flags from commands/register.go
// and configTemplate's from commands/config.go.
func registerRows(dir string) ([]row, error) {
	fset := token.NewFileSet()
	structs := map[string]*ast.StructType{}
	for _, name := range []string{"register.go", "config.go"} {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			return nil, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if st, ok := ts.Type.(*ast.StructType); ok {
					structs[ts.Name.Name] = st
				}
			}
			return true
		})
	}
	cmd, tmpl := structs["RegisterCommand"], structs["configTemplate"]
	if cmd == nil || tmpl == nil {
		return nil, fmt.Errorf("RegisterCommand or configTemplate not found in %s", dir)
	}
	rows := astRows(cmd, nil)
	for _, f := range cmd.Fields.List {
		// ConfigTemplate configTemplate `namespace:"template"`: its
		// flags come after the command's own.
		if tag := astTag(f); len(f.Names) == 1 && tag.Get("namespace") != "" && exprName(f.Type) == "configTemplate" {
			rows = append(rows, astRows(tmpl, []string{tag.Get("namespace")})...)
		}
	}
	return rows, nil
}

// astRows are the flags of a struct's own scalar fields (names, env, kind
// from the field's type name).
func astRows(st *ast.StructType, ns []string) []row {
	var rows []row
	for _, f := range st.Fields.List {
		tag := astTag(f)
		long := tag.Get("long")
		if long == "" || len(f.Names) != 1 {
			continue
		}
		var names []string
		for _, n := range []string{tag.Get("short"), long} {
			if n != "" {
				names = append(names, strings.Join(append(append([]string{}, ns...), n), "-"))
			}
		}
		full := strings.Join(append(append([]string{}, ns...), long), "-")
		rows = append(rows, row{names: names, env: tag.Get("env"), key: "register." + full, kind: exprName(f.Type)})
	}
	return rows
}

func astTag(f *ast.Field) reflect.StructTag {
	if f.Tag == nil {
		return ""
	}
	s, _ := strconv.Unquote(f.Tag.Value)
	return reflect.StructTag(s)
}

func exprName(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return fmt.Sprintf("%T", e)
}

// render is the Go file.
func render(rows []row, version string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `// Code generated by tools/registerflags-gen from GitLab Runner %s; DO NOT EDIT.

package wizard

// registerFlagTable lists every flag of `+"`gitlab-runner register`"+`: its names
// (short first), environment variable ("-" for none), the config.toml key
// it sets and the value kind. The [[runners]] part walks the struct tags of
// common.RunnerConfig (long, short, env, namespace, toml) with
// golang-cli-helpers' rules, checked against its GetFlagsFromStruct; the
// "register." part is RegisterCommand's own fields (commands/register.go)
// and its --template-config. Regenerate:
//
//	(cd tools/registerflags-gen && go run . -o ../../wizard/registerflags_table.go)
//
// Kinds: string bool int float duration; list:T (repeat the flag; its env
// variable gives one element); csv (split on commas); map:T (KEY:VALUE);
// custom:… and other:… cannot be given as a flag value runnerup can write.
const registerFlagTable = `+"`\n", version)
	for _, r := range rows {
		b.WriteString(r.String() + "\n")
	}
	b.WriteString("`\n")
	return format.Source(b.Bytes())
}

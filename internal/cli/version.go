package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// NewCmdVersion prints the build information.
func NewCmdVersion(d *Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print runnerup's version (also --version)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(d.IO.Out, versionLine())
			return err
		},
	}
}

// versionLine is what `runnerup version` and `runnerup --version` print.
func versionLine() string {
	version, commit, date := buildVersion(debug.ReadBuildInfo())
	return fmt.Sprintf("runnerup %s (commit %s, built %s, %s %s/%s)", version, commit, date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// buildVersion is the -ldflags values goreleaser sets; a build without
// them (go install …@v1.2.3, go build in a clone) takes the module version
// and VCS stamp Go recorded in the binary instead of "dev".
func buildVersion(info *debug.BuildInfo, ok bool) (version, commit, date string) {
	version, commit, date = Version, Commit, Date
	if !ok || info == nil {
		return
	}
	if version == "dev" && info.Main.Version != "" {
		version = info.Main.Version
	}
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && commit == "none":
			commit = s.Value
			if len(commit) > 12 {
				commit = commit[:12]
			}
		case s.Key == "vcs.time" && date == "unknown":
			date = s.Value
		}
	}
	return
}

package main

import (
	"runtime/debug"
	"strings"
)

// version is set by a release build: go build -ldflags "-X
// main.version=v1.2.3" ./cmd/brummer-mcp. Other builds leave it empty.
var version = ""

// versionString says which brummer-mcp this is, in every way it can be
// built: the version a release build sets; else the module version that go
// install ...@vX (or a build in a tagged checkout) records; else the
// commit and its date that a build in a git checkout records, "+dirty"
// with uncommitted changes; else "(devel)".
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return describeVersion(version, bi)
}

func describeVersion(linked string, bi *debug.BuildInfo) string {
	if linked != "" {
		return linked
	}
	if bi == nil {
		return "(devel)"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, date string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			date = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "(devel)"
	}
	var b strings.Builder
	b.WriteString("(devel) ")
	b.WriteString(rev[:min(12, len(rev))])
	if dirty {
		b.WriteString("+dirty")
	}
	if date != "" {
		b.WriteString(" " + date)
	}
	return b.String()
}

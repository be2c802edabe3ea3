package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// TestReadPluginJSON: a resource plugin's name and v-prefixed version; nil for anything else.
func TestReadPluginJSON(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	dep := readPluginJSON(write("a.json", `{"resource": true, "name": "cockroach-cmek", "version": "0.1.0"}`))
	if dep == nil || dep.GetName() != "cockroach-cmek" || dep.GetVersion() != "v0.1.0" || dep.GetKind() != "resource" {
		t.Fatalf("got %v", dep)
	}
	for _, content := range []string{`{"resource": false, "name": "pulumi"}`, `{"resource": true}`, `not json`} {
		if dep := readPluginJSON(write("b.json", content)); dep != nil {
			t.Errorf("%s: got %v, want nil", content, dep)
		}
	}
	if dep := readPluginJSON(filepath.Join(dir, "absent.json")); dep != nil {
		t.Errorf("absent file: got %v", dep)
	}
}

// TestPlaceholderVersion: the required version of a replaced module matches its major suffix.
func TestPlaceholderVersion(t *testing.T) {
	for path, want := range map[string]string{
		"example.com/pulumi-cockroach-cmek/sdk/go":    "v0.0.0-00010101000000-000000000000",
		"example.com/pulumi-cockroach-cmek/sdk/go/v2": "v2.0.0",
	} {
		if got := placeholderVersion(path); got != want {
			t.Errorf("%s: got %s, want %s", path, got, want)
		}
	}
}

// TestModulePathAndPackageDir: Link reads the SDK's module path and its root package directory.
func TestModulePathAndPackageDir(t *testing.T) {
	sdk := t.TempDir()
	if _, err := modulePathOf(sdk); err == nil {
		t.Fatal("no go.mod: want an error")
	}
	if err := os.WriteFile(filepath.Join(sdk, "go.mod"), []byte("module example.com/x/sdk/go\n\ngo 1.25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(sdk, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sdk, "x", "pulumi-plugin.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := modulePathOf(sdk); err != nil || got != "example.com/x/sdk/go" {
		t.Errorf("module path: got %q, %v", got, err)
	}
	if got := pluginPackageDir(sdk); got != "x" {
		t.Errorf("package dir: got %q", got)
	}
}

// TestProgramEnv: the variables pulumi.Run reads, config and secret keys as JSON.
func TestProgramEnv(t *testing.T) {
	h := newHost("127.0.0.1:1234")
	env, err := h.programEnv(&pulumirpc.RunRequest{
		Project: "p", Stack: "dev", MonitorAddress: "127.0.0.1:99", DryRun: true, Parallel: 8,
		Config: map[string]string{"p:clusterId": "abc"}, Info: &pulumirpc.ProgramInfo{RootDirectory: "/r"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"PULUMI_MONITOR=127.0.0.1:99", "PULUMI_ENGINE=127.0.0.1:1234", "PULUMI_PROJECT=p",
		"PULUMI_STACK=dev", "PULUMI_DRY_RUN=true", "PULUMI_PARALLEL=8", "PULUMI_ROOT_DIRECTORY=/r",
		"PULUMI_CONFIG_SECRET_KEYS=[]",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("missing %s", want)
		}
	}
	config, _ := json.Marshal(map[string]string{"p:clusterId": "abc"})
	if !slices.Contains(env, "PULUMI_CONFIG="+string(config)) {
		t.Errorf("missing PULUMI_CONFIG=%s", config)
	}
}

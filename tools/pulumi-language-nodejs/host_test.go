package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestRunArgsPassTheEngineSettingsToCmdRun(t *testing.T) {
	req := &pulumirpc.RunRequest{
		MonitorAddress: "127.0.0.1:1", Project: "p", Stack: "dev", Pwd: "/w", Parallel: 8, DryRun: true,
		Organization: "org", Args: []string{"extra"},
		Info: &pulumirpc.ProgramInfo{RootDirectory: "/w", ProgramDirectory: "/w", EntryPoint: "."},
	}
	got := strings.Join(runArgs(req, "/w/node_modules/@pulumi/pulumi/cmd/run", "127.0.0.1:2"), " ")
	want := "/w/node_modules/@pulumi/pulumi/cmd/run --monitor=127.0.0.1:1 --engine=127.0.0.1:2 --organization=org " +
		"--project=p --stack=dev --root-directory=/w --pwd=/w --parallel=8 --dry-run . extra"
	if got != want {
		t.Fatalf("runArgs:\n got %s\nwant %s", got, want)
	}
	req.DryRun = false
	if strings.Contains(strings.Join(runArgs(req, "run", ""), " "), "--dry-run") {
		t.Fatal("an update is run as a dry run")
	}
}

func TestRunEnvCarriesConfigSecretKeysAndTheTypeScriptSwitch(t *testing.T) {
	options, _ := structpb.NewStruct(map[string]any{"typescript": false})
	req := &pulumirpc.RunRequest{
		Config: map[string]string{"p:clusterId": "c"}, ConfigSecretKeys: []string{"cockroach-cmek:apiKey"},
		Info: &pulumirpc.ProgramInfo{Options: options},
	}
	env, err := runEnv(req)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(env, "\n")
	for _, want := range []string{`PULUMI_CONFIG={"p:clusterId":"c"}`, `PULUMI_CONFIG_SECRET_KEYS=["cockroach-cmek:apiKey"]`,
		"PULUMI_NODEJS_TYPESCRIPT=false"} {
		if !strings.Contains(joined, want) {
			t.Errorf("missing %s", want)
		}
	}
	env, _ = runEnv(&pulumirpc.RunRequest{})
	if !slices.Contains(env, "PULUMI_NODEJS_TYPESCRIPT=true") {
		t.Error("TypeScript is not the default")
	}
	if !slices.Contains(env, "PULUMI_CONFIG_SECRET_KEYS=[]") {
		t.Error("no secret keys must be an empty JSON list")
	}
}

func TestRunResponseMapsExitCodes(t *testing.T) {
	if r := runResponse(nil); r.Error != "" || r.Bail {
		t.Fatalf("success: %v", r)
	}
	if r := runResponse(exec.Command("sh", "-c", "exit 32").Run()); !r.Bail || r.Error != "" {
		t.Fatalf("exit 32 is a bail: %v", r)
	}
	if r := runResponse(exec.Command("sh", "-c", "exit 3").Run()); r.Bail || !strings.Contains(r.Error, "exit code: 3") {
		t.Fatalf("exit 3: %v", r)
	}
}

func writeJSON(t *testing.T, path string, value any) {
	t.Helper()
	data, _ := json.Marshal(value)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRequiredPackagesAreTheResourcePluginsInNodeModules(t *testing.T) {
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "node_modules/@pulumi/pulumi/package.json"), map[string]any{"name": "@pulumi/pulumi", "version": "3.276.0"})
	writeJSON(t, filepath.Join(dir, "node_modules/@pulumi/cockroach-cmek/package.json"), map[string]any{
		"name": "@pulumi/cockroach-cmek", "version": "0.1.0",
		"pulumi": map[string]any{"resource": true, "name": "cockroach-cmek", "version": "0.1.0"}})
	writeJSON(t, filepath.Join(dir, "node_modules/@pulumi/aws/package.json"), map[string]any{
		"name": "@pulumi/aws", "version": "7.1.0", "pulumi": map[string]any{"resource": true}})
	writeJSON(t, filepath.Join(dir, "node_modules/left-pad/package.json"), map[string]any{"name": "left-pad", "version": "1.0.0"})
	got, err := requiredPackages(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, p := range got {
		names = append(names, p.Name+"@"+p.Version)
	}
	if strings.Join(names, " ") != "aws@v7.1.0 cockroach-cmek@v0.1.0" {
		t.Fatalf("required packages: %v", names)
	}
	if none, err := requiredPackages(t.TempDir()); err != nil || len(none) != 0 {
		t.Fatalf("no node_modules: %v %v", none, err)
	}
}

func TestWriteFilesRefusesPathsOutsideTheDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := writeFiles(dir, map[string][]byte{"a/b.ts": []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "a/b.ts")); string(data) != "x" {
		t.Fatal("a/b.ts not written")
	}
	if err := writeFiles(dir, map[string][]byte{"../escape.ts": []byte("x")}); err == nil {
		t.Fatal("../escape.ts was written")
	}
}

func TestLinkAddsTheSDKAsAFileDependency(t *testing.T) {
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("npm is needed: ", err)
	}
	root := t.TempDir()
	writeJSON(t, filepath.Join(root, "package.json"), map[string]any{"name": "program", "dependencies": map[string]string{"@pulumi/pulumi": "3.276.0"}})
	writeJSON(t, filepath.Join(root, "sdks/cockroach-cmek/package.json"), map[string]any{"name": "@pulumi/cockroach-cmek"})
	resp, err := newHost("", "v0").Link(context.Background(), &pulumirpc.LinkRequest{
		Info:     &pulumirpc.ProgramInfo{RootDirectory: root, ProgramDirectory: root, EntryPoint: "."},
		Packages: []*pulumirpc.LinkRequest_LinkDependency{{Path: "sdks/cockroach-cmek", Package: &pulumirpc.PackageDependency{Name: "cockroach-cmek"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var manifest struct{ Dependencies map[string]string }
	data, _ := os.ReadFile(filepath.Join(root, "package.json"))
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	if manifest.Dependencies["@pulumi/cockroach-cmek"] != "file:sdks/cockroach-cmek" || manifest.Dependencies["@pulumi/pulumi"] != "3.276.0" {
		t.Fatalf("dependencies: %v", manifest.Dependencies)
	}
	if !strings.Contains(resp.ImportInstructions, `import * as cockroachcmek from "@pulumi/cockroach-cmek"`) {
		t.Fatalf("instructions: %q", resp.ImportInstructions)
	}
}

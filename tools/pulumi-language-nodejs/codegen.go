package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// GeneratePackage writes the TypeScript SDK of the request's schema into its directory, with
// Pulumi's own generator (pkg/v3 codegen/nodejs; `local` gives an SDK compiled on npm install).
func (h *host) GeneratePackage(_ context.Context, req *pulumirpc.GeneratePackageRequest) (*pulumirpc.GeneratePackageResponse, error) {
	loader, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, err
	}
	defer loader.Close()
	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
		return nil, fmt.Errorf("the schema is not JSON: %w", err)
	}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
	}
	files, err := nodejs.GeneratePackage("pulumi-language-nodejs", pkg, req.GetExtraFiles(),
		req.GetLocalDependencies(), req.GetLocal(), loader)
	if err != nil {
		return nil, err
	}
	if err := writeFiles(req.GetDirectory(), files); err != nil {
		return nil, err
	}
	return &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}, nil
}

// writeFiles writes each relative path -> contents under dir.
func writeFiles(dir string, files map[string][]byte) error {
	for name, contents := range files {
		path := filepath.Join(dir, name)
		if !strings.HasPrefix(path, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("generated file %q is outside %s", name, dir)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, contents, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Link adds each generated SDK (a directory under the project, e.g. sdks/cockroach-cmek) to the
// program's package.json as a `file:` dependency named as the SDK's own package.json names it;
// the CLI then calls InstallDependencies (npm install, which compiles the SDK).
func (h *host) Link(_ context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	dir := programDirectory(req.GetInfo())
	root := req.GetInfo().GetRootDirectory()
	var instructions []string
	for _, dep := range req.GetPackages() {
		sdk := dep.GetPath()
		if !filepath.IsAbs(sdk) {
			sdk = filepath.Join(root, sdk)
		}
		manifest, err := readPackage(filepath.Join(sdk, "package.json"))
		if err != nil {
			return nil, fmt.Errorf("linking %s: %w", dep.GetPath(), err)
		}
		rel, err := filepath.Rel(dir, sdk)
		if err != nil {
			return nil, err
		}
		if err := linkDependency(dir, manifest.Name, "file:"+filepath.ToSlash(rel)); err != nil {
			return nil, err
		}
		instructions = append(instructions, importInstructions(manifest.Name, dep.GetPackage().GetName()))
	}
	return &pulumirpc.LinkResponse{ImportInstructions: strings.Join(instructions, "\n")}, nil
}

// linkDependency sets dependencies[name] = spec in dir/package.json (npm pkg set keeps its layout).
func linkDependency(dir, name, spec string) error {
	cmd := exec.Command("npm", "pkg", "set", "dependencies."+name+"="+spec)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm pkg set dependencies.%s=%s in %s: %v: %s", name, spec, dir, err, out)
	}
	return nil
}

// importInstructions is what the CLI prints after linking: how a program imports the SDK.
func importInstructions(npmName, packageName string) string {
	alias := strings.NewReplacer("-", "", "_", "").Replace(packageName)
	return fmt.Sprintf("You can then import the SDK in your TypeScript code with:\n\n  import * as %s from %q;\n", alias, npmName)
}

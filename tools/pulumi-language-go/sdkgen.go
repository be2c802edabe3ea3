package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// generator is the tool name the generated files' headers carry.
const generator = "pulumi-language-go"

// GeneratePackage writes the Go SDK of the request's schema into its directory.
func (h *host) GeneratePackage(
	_ context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
		return nil, fmt.Errorf("the schema is not valid JSON: %w", err)
	}
	var loader schema.Loader
	if target := req.GetLoaderTarget(); target != "" {
		client, err := schema.NewLoaderClient(target)
		if err != nil {
			return nil, err
		}
		defer func() { _ = client.Close() }()
		loader = client
	}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{})
	if err != nil {
		return nil, err
	}
	response := &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}
	if diags.HasErrors() {
		return response, nil
	}
	if req.GetLocal() {
		pkg.SupportPack = true // a local SDK is its own Go module (a go.mod beside the packages)
	}
	files, err := gogen.GeneratePackage(generator, pkg, req.GetLocalDependencies())
	if err != nil {
		return nil, err
	}
	for name, content := range req.GetExtraFiles() {
		files[name] = content
	}
	for name, content := range files {
		target := filepath.Join(req.GetDirectory(), filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(target, content, 0o644); err != nil {
			return nil, err
		}
	}
	return response, nil
}

// Link makes each generated SDK a dependency of the program: a require of its module and a
// replace pointing at its directory, in the program's go.mod.
func (h *host) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	programDir := programDirectory(req.GetInfo())
	var instructions []string
	for _, dep := range req.GetPackages() {
		sdkDir := dep.GetPath()
		if !filepath.IsAbs(sdkDir) {
			sdkDir = filepath.Join(req.GetInfo().GetRootDirectory(), sdkDir)
		}
		modulePath, err := modulePathOf(sdkDir)
		if err != nil {
			return nil, err
		}
		relative, err := filepath.Rel(programDir, sdkDir)
		if err != nil {
			return nil, err
		}
		replacement := "./" + filepath.ToSlash(relative)
		if strings.HasPrefix(relative, "..") {
			replacement = filepath.ToSlash(relative)
		}
		cmd := exec.CommandContext(ctx, "go", "mod", "edit",
			"-replace="+modulePath+"="+replacement,
			"-require="+modulePath+"@"+placeholderVersion(modulePath))
		cmd.Dir = programDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go mod edit in %s: %w: %s", programDir, err, out)
		}
		importPath := modulePath
		if pkgDir := pluginPackageDir(sdkDir); pkgDir != "" {
			importPath = path.Join(modulePath, pkgDir)
		}
		instructions = append(instructions, fmt.Sprintf(
			"The Go SDK of %s is linked: go.mod replaces %s with %s.\nImport it as:\n\n\timport %q\n",
			dep.GetPackage().GetName(), modulePath, replacement, importPath))
	}
	return &pulumirpc.LinkResponse{ImportInstructions: strings.Join(instructions, "\n")}, nil
}

// modulePathOf reads the module path of the go.mod in dir.
func modulePathOf(dir string) (string, error) {
	file := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("the generated SDK has no go.mod: %w", err)
	}
	modulePath := modfile.ModulePath(data)
	if modulePath == "" {
		return "", fmt.Errorf("%s names no module", file)
	}
	return modulePath, nil
}

// placeholderVersion is the version required of a replaced module: v0.0.0-... for a v0/v1
// path, vN.0.0 for a path ending in /vN.
func placeholderVersion(modulePath string) string {
	if _, major, ok := module.SplitPathVersion(modulePath); ok && major != "" {
		return strings.TrimPrefix(major, "/") + ".0.0"
	}
	return "v0.0.0-00010101000000-000000000000"
}

// pluginPackageDir is the slash-separated directory under sdkDir that holds the SDK's
// pulumi-plugin.json (its root package), or "" when there is none.
func pluginPackageDir(sdkDir string) string {
	found, _ := filepath.Glob(filepath.Join(sdkDir, "*", "pulumi-plugin.json"))
	if len(found) != 1 {
		return ""
	}
	return filepath.Base(filepath.Dir(found[0]))
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// host is the pulumirpc.LanguageRuntime service for Go programs.
type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	engine   string    // the engine's gRPC address (from the command line or Handshake)
	children *children // the processes started by Run, for Cancel and shutdown
}

// newHost is the service for the engine at the given address ("" until Handshake names it).
func newHost(engine string) *host {
	return &host{engine: engine, children: &children{procs: map[*os.Process]struct{}{}}}
}

// Handshake records the engine's address.
func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engine = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetPluginInfo reports this host's version.
func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// About names the go toolchain that builds the programs.
func (h *host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, gobin, "env", "GOVERSION").Output()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: gobin, Version: strings.TrimSpace(string(out))}, nil
}

// RuntimeOptionsPrompts has no prompts (`pulumi new` asks nothing Go-specific).
func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// GetRequiredPlugins is the deprecated form of GetRequiredPackages.
func (h *host) GetRequiredPlugins(
	ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	packages, err := requiredPackages(ctx, programDirectory(req.GetInfo()))
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(packages))
	for _, p := range packages {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.GetName(), Kind: p.GetKind(), Version: p.GetVersion(), Server: p.GetServer(),
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// GetRequiredPackages lists the resource plugins named by pulumi-plugin.json files of the
// program's modules (a generated SDK carries one in its package directory).
func (h *host) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages, err := requiredPackages(ctx, programDirectory(req.GetInfo()))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// pluginJSON is the part of pulumi-plugin.json this host reads.
type pluginJSON struct {
	Resource bool   `json:"resource"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Server   string `json:"server"`
}

// requiredPackages reads `go list -m -json all` in dir and the pulumi-plugin.json files at the
// root of each module and one directory below it.
func requiredPackages(ctx context.Context, dir string) ([]*pulumirpc.PackageDependency, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-json", "all")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var found []*pulumirpc.PackageDependency
	decoder := json.NewDecoder(bytes.NewReader(out))
	for decoder.More() {
		var module struct{ Dir string }
		if err := decoder.Decode(&module); err != nil {
			return nil, err
		}
		if module.Dir == "" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(module.Dir, "*", "pulumi-plugin.json"))
		files = append([]string{filepath.Join(module.Dir, "pulumi-plugin.json")}, files...)
		for _, file := range files {
			if dep := readPluginJSON(file); dep != nil {
				found = append(found, dep)
			}
		}
	}
	return found, nil
}

// readPluginJSON is the package a pulumi-plugin.json names, or nil (absent, unreadable, or not
// a resource plugin).
func readPluginJSON(file string) *pulumirpc.PackageDependency {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var info pluginJSON
	if json.Unmarshal(data, &info) != nil || !info.Resource || info.Name == "" {
		return nil
	}
	v := info.Version
	if v != "" && !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return &pulumirpc.PackageDependency{Name: info.Name, Kind: "resource", Version: v, Server: info.Server}
}

// programDirectory is the directory of the program's main package.
func programDirectory(info *pulumirpc.ProgramInfo) string {
	if dir := info.GetProgramDirectory(); dir != "" {
		return dir
	}
	return info.GetRootDirectory()
}

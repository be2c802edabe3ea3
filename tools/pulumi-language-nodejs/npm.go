package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// npmPackage is the part of a package.json this host reads.
type npmPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  *struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
}

func readPackage(path string) (*npmPackage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var pkg npmPackage
	if err := json.Unmarshal(data, &pkg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &pkg, nil
}

// requiredPackages lists the resource plugins the packages directly under dir/node_modules declare
// (package.json "pulumi": {"resource": true, "name", "version", "server"}), sorted by name.
func requiredPackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	modules := filepath.Join(dir, "node_modules")
	var manifests []string
	entries, err := os.ReadDir(modules)
	if os.IsNotExist(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	for _, entry := range entries {
		name := entry.Name()
		if strings.HasPrefix(name, "@") {
			scoped, err := os.ReadDir(filepath.Join(modules, name))
			if err != nil {
				return nil, err
			}
			for _, inner := range scoped {
				manifests = append(manifests, filepath.Join(modules, name, inner.Name(), "package.json"))
			}
		} else if !strings.HasPrefix(name, ".") {
			manifests = append(manifests, filepath.Join(modules, name, "package.json"))
		}
	}
	packages := []*pulumirpc.PackageDependency{}
	for _, manifest := range manifests {
		pkg, err := readPackage(manifest)
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		if pkg.Pulumi == nil || !pkg.Pulumi.Resource {
			continue
		}
		name := pkg.Pulumi.Name
		if name == "" {
			name = strings.TrimPrefix(pkg.Name, "@pulumi/")
		}
		version := pkg.Pulumi.Version
		if version == "" {
			version = pkg.Version
		}
		if version != "" && !strings.HasPrefix(version, "v") {
			version = "v" + version
		}
		packages = append(packages, &pulumirpc.PackageDependency{
			Name: name, Kind: "resource", Version: version, Server: pkg.Pulumi.Server,
		})
	}
	sort.Slice(packages, func(i, j int) bool { return packages[i].Name < packages[j].Name })
	return packages, nil
}

// InstallDependencies runs `npm install` in the program's directory, streaming its output.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := req.GetDirectory()
	if dir == "" {
		dir = programDirectory(req.GetInfo())
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund")
	cmd.Dir = dir
	var mu sync.Mutex
	send := func(out, errOut []byte) {
		mu.Lock()
		defer mu.Unlock()
		_ = stream.Send(&pulumirpc.InstallDependenciesResponse{Stdout: out, Stderr: errOut})
	}
	send([]byte("Installing dependencies (npm install)...\n\n"), nil)
	cmd.Stdout = writerFunc(func(p []byte) { send(bytes.Clone(p), nil) })
	cmd.Stderr = writerFunc(func(p []byte) { send(nil, bytes.Clone(p)) })
	done, err := h.start(cmd)
	if err != nil {
		return status.Errorf(codes.FailedPrecondition, "cannot run npm: %v", err)
	}
	err = cmd.Wait()
	done()
	if err != nil {
		return status.Errorf(codes.Unknown, "npm install failed in %s: %v", dir, err)
	}
	send([]byte("Finished installing dependencies\n\n"), nil)
	return nil
}

// writerFunc is an io.Writer calling a function with each write.
type writerFunc func([]byte)

func (w writerFunc) Write(p []byte) (int, error) { w(p); return len(p), nil }

var _ io.Writer = writerFunc(nil)

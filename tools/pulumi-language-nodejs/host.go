package main

import (
	"context"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// killGrace is how long Cancel waits after SIGINT before it kills a child.
const killGrace = 5 * time.Second

// host is the pulumirpc.LanguageRuntime service; unimplemented methods answer UNIMPLEMENTED.
type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu       sync.Mutex
	engine   string                 // the engine's address (argument, or Handshake)
	version  string                 // reported by GetPluginInfo
	children map[*exec.Cmd]struct{} // running programs and npm commands, for Cancel
}

func newHost(engine, version string) *host {
	return &host{engine: engine, version: version, children: map[*exec.Cmd]struct{}{}}
}

// start starts cmd and records it until done is called.
func (h *host) start(cmd *exec.Cmd) (done func(), err error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.children[cmd] = struct{}{}
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		delete(h.children, cmd)
		h.mu.Unlock()
	}, nil
}

// cancelChildren sends SIGINT to every running child and kills those still running after killGrace.
func (h *host) cancelChildren() {
	h.mu.Lock()
	running := make([]*exec.Cmd, 0, len(h.children))
	for cmd := range h.children {
		running = append(running, cmd)
	}
	h.mu.Unlock()
	for _, cmd := range running {
		_ = cmd.Process.Signal(syscall.SIGINT)
	}
	deadline := time.Now().Add(killGrace)
	for _, cmd := range running {
		for time.Now().Before(deadline) && h.isRunning(cmd) {
			time.Sleep(50 * time.Millisecond)
		}
		if h.isRunning(cmd) {
			_ = cmd.Process.Kill()
		}
	}
}

func (h *host) isRunning(cmd *exec.Cmd) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.children[cmd]
	return ok
}

func (h *host) engineAddress() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engine
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.mu.Lock()
		h.engine = req.GetEngineAddress()
		h.mu.Unlock()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: h.version}, nil
}

// GetRequiredPlugins is the engine's older question; GetRequiredPackages answers for it.
func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// GetRequiredPackages lists the Pulumi packages installed in the program's node_modules.
func (h *host) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages, err := requiredPackages(programDirectory(req.GetInfo()))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: strings.TrimPrefix(strings.TrimSpace(string(out)), "v")}, nil
}

func (h *host) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancelChildren()
	return &emptypb.Empty{}, nil
}

// programDirectory is the directory of the program (its package.json), from a request's ProgramInfo.
func programDirectory(info *pulumirpc.ProgramInfo) string {
	if dir := info.GetProgramDirectory(); dir != "" {
		return dir
	}
	return info.GetRootDirectory()
}

// option is the runtime option `name` of Pulumi.yaml (`runtime: {name: nodejs, options: {...}}`), or nil.
func option(info *pulumirpc.ProgramInfo, name string) *structpb.Value {
	if info.GetOptions() == nil {
		return nil
	}
	return info.GetOptions().GetFields()[name]
}

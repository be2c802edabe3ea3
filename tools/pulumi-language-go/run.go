package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// bailExitCode is the exit code of a Go program whose error pulumi.Run already reported
// (constant.ExitStatusLoggedError in the SDK): the CLI prints no second error.
const bailExitCode = 32

// killGrace is how long a child has between SIGINT and SIGKILL.
const killGrace = 5 * time.Second

// Run builds the program with `go build` and runs it against the engine's resource monitor.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir := programDirectory(req.GetInfo())
	binary, cleanup, err := h.build(ctx, dir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	defer cleanup()

	env, err := h.programEnv(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, req.GetArgs()...)
	cmd.Dir = req.GetPwd()
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	code, err := h.children.run(cmd)
	switch {
	case err != nil:
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	case code == 0:
		return &pulumirpc.RunResponse{}, nil
	case code == bailExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case code < 0:
		return &pulumirpc.RunResponse{Error: "the program was stopped by a signal"}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", code)}, nil
	}
}

// build compiles the main package in dir into a temporary directory; cleanup removes it.
func (h *host) build(ctx context.Context, dir string) (string, func(), error) {
	out, err := os.MkdirTemp("", "pulumi-go.")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { _ = os.RemoveAll(out) }
	binary := filepath.Join(out, "program")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", binary, ".")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if code, err := h.children.run(cmd); err != nil || code != 0 {
		cleanup()
		return "", nil, fmt.Errorf("unable to build the Go program in %s (go build exited %d): see the output above", dir, code)
	}
	return binary, cleanup, nil
}

// programEnv is this host's environment plus the variables pulumi.Run reads.
func (h *host) programEnv(req *pulumirpc.RunRequest) ([]string, error) {
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	return append(os.Environ(),
		"PULUMI_MONITOR="+req.GetMonitorAddress(),
		"PULUMI_ENGINE="+h.engine,
		"PULUMI_PROJECT="+req.GetProject(),
		"PULUMI_STACK="+req.GetStack(),
		"PULUMI_ORGANIZATION="+req.GetOrganization(),
		"PULUMI_ROOT_DIRECTORY="+req.GetInfo().GetRootDirectory(),
		"PULUMI_DRY_RUN="+strconv.FormatBool(req.GetDryRun()),
		"PULUMI_PARALLEL="+strconv.Itoa(int(req.GetParallel())),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secrets),
	), nil
}

// Cancel stops every child (SIGINT, then SIGKILL after killGrace).
func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.children.stop()
	return &emptypb.Empty{}, nil
}

// children tracks the running child processes.
type children struct {
	mu    sync.Mutex
	procs map[*os.Process]struct{}
}

// run starts cmd, waits for it, and returns its exit code (-1 for a signal).
func (c *children) run(cmd *exec.Cmd) (int, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.procs[cmd.Process] = struct{}{}
	c.mu.Unlock()
	err := cmd.Wait()
	c.mu.Lock()
	delete(c.procs, cmd.Process)
	c.mu.Unlock()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// stop sends SIGINT to every child and SIGKILL to those still running after killGrace.
func (c *children) stop() {
	c.mu.Lock()
	procs := make([]*os.Process, 0, len(c.procs))
	for p := range c.procs {
		procs = append(procs, p)
	}
	c.mu.Unlock()
	for _, p := range procs {
		_ = p.Signal(syscall.SIGINT)
	}
	deadline := time.Now().Add(killGrace)
	for _, p := range procs {
		for c.running(p) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if c.running(p) {
			_ = p.Kill()
		}
	}
}

// running reports whether p is still tracked (run removes it once it has exited).
func (c *children) running(p *os.Process) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.procs[p]
	return ok
}

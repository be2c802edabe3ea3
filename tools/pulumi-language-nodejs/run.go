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
	"strings"
	"syscall"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// bailExitCode is cmd/run's exit code after it has shown the user the error: the CLI adds nothing.
const bailExitCode = 32

// runScript is the Node.js SDK's program runner, found in the node_modules of dir or a parent.
func runScript(dir string) (string, error) {
	for current := dir; ; current = filepath.Dir(current) {
		candidate := filepath.Join(current, "node_modules", "@pulumi", "pulumi", "cmd", "run")
		if _, err := os.Stat(filepath.Join(candidate, "index.js")); err == nil {
			return candidate, nil
		}
		if filepath.Dir(current) == current {
			return "", fmt.Errorf("no @pulumi/pulumi in the node_modules of %s or a parent directory: "+
				"run `npm install` (or `pulumi install`) there", dir)
		}
	}
}

// runArgs is the node command line of a program: node [nodeargs] <cmd/run> <flags> <entry point> <args>.
func runArgs(req *pulumirpc.RunRequest, script, engine string) []string {
	args := []string{}
	if nodeArgs := option(req.GetInfo(), "nodeargs"); nodeArgs != nil && nodeArgs.GetStringValue() != "" {
		args = append(args, strings.Fields(nodeArgs.GetStringValue())...)
	}
	args = append(args, script)
	for _, flag := range []struct{ name, value string }{
		{"monitor", req.GetMonitorAddress()},
		{"engine", engine},
		{"organization", req.GetOrganization()},
		{"project", req.GetProject()},
		{"stack", req.GetStack()},
		{"root-directory", req.GetInfo().GetRootDirectory()},
		{"pwd", req.GetPwd()},
		{"parallel", strconv.Itoa(int(req.GetParallel()))},
	} {
		if flag.value != "" {
			args = append(args, "--"+flag.name+"="+flag.value)
		}
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	entry := req.GetInfo().GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	return append(args, req.GetArgs()...)
}

// runEnv is the environment of a program: the host's, the configuration and the TypeScript switch.
func runEnv(req *pulumirpc.RunRequest) ([]string, error) {
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secrets := req.GetConfigSecretKeys()
	if secrets == nil {
		secrets = []string{}
	}
	secretKeys, err := json.Marshal(secrets)
	if err != nil {
		return nil, err
	}
	typescript := "true"
	if value := option(req.GetInfo(), "typescript"); value != nil && !value.GetBoolValue() {
		typescript = "false"
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
		"PULUMI_NODEJS_TYPESCRIPT="+typescript,
	)
	if tsconfig := option(req.GetInfo(), "tsconfig"); tsconfig != nil && tsconfig.GetStringValue() != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig.GetStringValue())
	}
	return env, nil
}

// Run runs the program to completion; its output goes to this host's, which the CLI shows.
func (h *host) Run(_ context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir := programDirectory(req.GetInfo())
	script, err := runScript(dir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	env, err := runEnv(req)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", runArgs(req, script, h.engineAddress())...)
	cmd.Dir = dir
	if req.GetPwd() != "" {
		cmd.Dir = req.GetPwd()
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	done, err := h.start(cmd)
	if err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("cannot start node: %v", err)}, nil
	}
	err = cmd.Wait()
	done()
	return runResponse(err), nil
}

// runResponse maps the program's exit to the engine's answer: success, bail (32) or an error.
func runResponse(err error) *pulumirpc.RunResponse {
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return &pulumirpc.RunResponse{Error: err.Error()}
	}
	if status, ok := exit.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited on signal %d", status.Signal())}
	}
	if exit.ExitCode() == bailExitCode {
		return &pulumirpc.RunResponse{Bail: true}
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", exit.ExitCode())}
}

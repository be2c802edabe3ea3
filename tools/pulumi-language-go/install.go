package main

import (
	"fmt"
	"os/exec"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// InstallDependencies runs `go mod tidy` in the program's directory (it fetches what go.mod
// needs and adds the go.sum lines, e.g. of an SDK just linked), streaming its output.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := programDirectory(req.GetInfo())
	if dir == "" {
		dir = req.GetDirectory()
	}
	var sending sync.Mutex // one Send at a time: both writers share the stream
	out := &streamWriter{mu: &sending, send: func(b []byte) error {
		return stream.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	}}
	errOut := &streamWriter{mu: &sending, send: func(b []byte) error {
		return stream.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	}}
	_, _ = fmt.Fprintf(out, "Installing dependencies (go mod tidy in %s)...\n", dir)
	cmd := exec.CommandContext(stream.Context(), "go", "mod", "tidy")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, errOut
	code, err := h.children.run(cmd)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("go mod tidy in %s exited %d", dir, code)
	}
	_, _ = fmt.Fprintln(out, "Finished installing dependencies")
	return nil
}

// streamWriter is an io.Writer that sends each write to a gRPC stream, holding mu (a stream's
// Send is not safe for concurrent use).
type streamWriter struct {
	mu   *sync.Mutex
	send func([]byte) error
}

// Write sends a copy of p.
func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.send(append([]byte(nil), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

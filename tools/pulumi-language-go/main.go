// Command pulumi-language-go is the project's own Go language host for the Pulumi CLI.
//
// The Go module proxy does not serve Pulumi's Go language host
// (github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3), so scripts/pulumi-cli.sh builds this
// one beside the CLI. The CLI starts it as `pulumi-language-go <engine address>`, reads the gRPC
// port from the first line of its standard output, and calls the pulumirpc.LanguageRuntime
// service:
//
//   - Run: `go build` the program (the shared Go build cache keeps rebuilds fast), then run the
//     binary with the variables the Go SDK's pulumi.Run reads (PULUMI_MONITOR, PULUMI_CONFIG ...);
//   - GeneratePackage: the Go SDK of a schema, by github.com/pulumi/pulumi/pkg/v3/codegen/go
//     (`pulumi package add`);
//   - Link: a replace and a require of the generated SDK in the program's go.mod;
//   - InstallDependencies: `go mod tidy` (`pulumi install`, and after Link);
//   - GetRequiredPackages: the pulumi-plugin.json files of the program's modules.
//
// Not implemented (the CLI reports UNIMPLEMENTED): RunPlugin (Go plugins), GenerateProgram,
// GenerateProject, Pack, Template, debugging.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// version is the plugin version GetPluginInfo reports (set with -ldflags "-X main.version=...").
var version = "v0.0.0"

func main() {
	flag.String("tracing", "", "ignored: tracing endpoint")
	flag.Parse()
	engine := ""
	if flag.NArg() > 0 {
		engine = flag.Arg(flag.NArg() - 1)
	}
	if err := serve(engine); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-go: %v\n", err)
		os.Exit(1)
	}
}

// serve listens on a free local port, prints it, and serves until SIGINT or SIGTERM.
func serve(engine string) error {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	host := newHost(engine)
	server := grpc.NewServer(grpc.MaxRecvMsgSize(400 * 1024 * 1024))
	pulumirpc.RegisterLanguageRuntimeServer(server, host)
	fmt.Println(listener.Addr().(*net.TCPAddr).Port)

	// The CLI closes a plugin with SIGINT to its process group and kills it 5 s later: stop
	// at once (after the children), so no command waits those 5 s.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		host.children.stop()
		stopped := make(chan struct{})
		go func() { server.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(time.Second):
			server.Stop()
		}
	}()
	err = server.Serve(listener)
	if err == grpc.ErrServerStopped {
		return nil
	}
	return err
}

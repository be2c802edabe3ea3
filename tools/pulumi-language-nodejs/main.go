// Command pulumi-language-nodejs is a Node.js language host for the Pulumi CLI, written for this
// project because the Go module proxy does not serve Pulumi's own (README.md here).
//
// The CLI starts `pulumi-language-nodejs [flags] <engine address>`, reads the gRPC port from the
// first line of standard output and calls the pulumirpc.LanguageRuntime service: Run (the
// program, through the Node.js SDK's cmd/run), InstallDependencies (npm install),
// GeneratePackage (the TypeScript SDK of a package, Pulumi's pkg/v3 codegen/nodejs), Link (a local
// SDK into package.json), GetRequiredPackages, GetPluginInfo, Handshake, Cancel.
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

// version is the plugin version reported by GetPluginInfo (set with -ldflags "-X main.version=v...").
var version = "v0.0.0-dev"

func main() {
	if err := serve(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

// serve parses the CLI's arguments, serves the language runtime on a local port (printed on the
// first line of standard output) and returns when the CLI closes the plugin (SIGINT or SIGTERM).
func serve(args []string) error {
	flags := flag.NewFlagSet("pulumi-language-nodejs", flag.ContinueOnError)
	flags.String("tracing", "", "tracing endpoint (ignored)")
	flags.String("root", "", "project root (ignored; every request names its own)")
	flags.Bool("typescript", true, "ignored: the runtime option `typescript` of Pulumi.yaml decides")
	if err := flags.Parse(args); err != nil {
		return err
	}
	engine := ""
	if flags.NArg() > 0 {
		engine = flags.Arg(flags.NArg() - 1) // the engine address is the last positional argument
	}

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	host := newHost(engine, version)
	server := grpc.NewServer(grpc.MaxRecvMsgSize(400 * 1024 * 1024))
	pulumirpc.RegisterLanguageRuntimeServer(server, host)
	fmt.Printf("%d\n", listener.Addr().(*net.TCPAddr).Port)

	// The CLI runs each plugin in a process group of its own and closes it with SIGINT at the end
	// of every command, killing the group 5 s later: stop at once (children first).
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		host.cancelChildren()
		stopped := make(chan struct{})
		go func() { server.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(time.Second):
			server.Stop()
		}
	}()
	return server.Serve(listener)
}
